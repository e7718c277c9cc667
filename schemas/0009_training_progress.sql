-- forecastd schema, version 9: the progress of a training in progress (a first training
-- included), in forecast.model_status: epoch of epochs, best epoch, validation loss and an
-- estimate of the time left. The daemon updates it every epoch and clears it when the
-- training ends.
ALTER TABLE forecast.models ADD COLUMN training jsonb;
COMMENT ON COLUMN forecast.models.training IS 'Progress of the training running now (epoch, epochs, best_epoch, val_loss, eta_s); NULL otherwise.';

CREATE OR REPLACE VIEW forecast.model_status AS
SELECT m.name AS model,
       m.state,
       m.last_error,
       m.last_error_at,
       v.version AS active_version,
       v.kind AS active_kind,
       v.created_at AS active_since,
       v.val_loss AS active_val_loss,
       (SELECT max(p.issued_at) FROM forecast.predictions AS p WHERE p.model = m.name) AS last_forecast,
       s.newest_data,
       coalesce(s.series, 0) AS series,
       coalesce(s.quality, '{}'::jsonb) AS quality,
       (SELECT count(*) FROM forecast.requests AS r WHERE r.model = m.name AND r.status = 'queued') AS queued_requests,
       (SELECT l.owner FROM forecast.leases AS l WHERE l.model = m.name AND l.expires_at > now()) AS worked_on_by,
       coalesce(s.stale_series, 0) AS stale_series,
       (m.training->>'epoch')::int AS training_epoch,
       (m.training->>'epochs')::int AS training_epochs,
       (m.training->>'best_epoch')::int AS training_best_epoch,
       (m.training->>'eta_s')::float8 AS training_eta_seconds,
       (m.training->>'val_loss')::float8 AS training_val_loss
FROM forecast.models AS m
LEFT JOIN forecast.model_versions AS v ON v.model = m.name AND v.active
LEFT JOIN LATERAL (
    SELECT max(ss.watermark) AS newest_data,
           count(*) AS series,
           count(*) FILTER (WHERE ss.reason IS NOT NULL) AS stale_series,
           jsonb_build_object(
               'rows_read', sum((ss.quality->>'rows_read')::bigint),
               'rows_dropped', sum((ss.quality->>'rows_dropped')::bigint),
               'buckets_interpolated', sum((ss.quality->>'buckets_interpolated')::bigint),
               'buckets_missing', sum((ss.quality->>'buckets_missing')::bigint),
               'series_with_gaps', count(*) FILTER (WHERE (ss.quality->>'segments')::int > 1)
           ) AS quality
    FROM forecast.series_state AS ss WHERE ss.model = m.name
) AS s ON true;
