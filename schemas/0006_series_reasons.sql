-- forecastd schema, version 6: every series has a fresh forecast or a stated reason.

-- Why a series has no fresh forecast (NULL when its newest forecast is fresh): a newest
-- stretch too short for the lookback even with short gaps bridged, a non-finite network
-- output, ... `bridged` counts the steps interpolated in its newest forecast's window when
-- a gap longer than the training limit was bridged to forecast it.
ALTER TABLE forecast.series_state
    ADD COLUMN reason text,
    ADD COLUMN bridged integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN forecast.series_state.reason IS 'Why the series has no fresh forecast; NULL when it has one.';

-- The newest forecast set of every model and series, with whether it is stale: the series
-- has readings newer than the set (or a reason it could not be forecast).
CREATE OR REPLACE VIEW forecast.latest AS
SELECT p.model, p.series, p.issued_at, p.target_time, p.step, p.value, p.lower, p.upper,
       p.quantiles, p.version,
       coalesce(ss.watermark > p.issued_at OR ss.reason IS NOT NULL, false) AS stale
FROM forecast.predictions AS p
LEFT JOIN forecast.series_state AS ss ON ss.model = p.model AND ss.series = p.series
WHERE p.issued_at = (
    SELECT max(q.issued_at) FROM forecast.predictions AS q
    WHERE q.model = p.model AND q.series = p.series
);

-- model_status counts the series without a fresh forecast.
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
       CASE WHEN m.lease_expires_at > now() THEN m.lease_owner END AS worked_on_by,
       coalesce(s.stale_series, 0) AS stale_series
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
