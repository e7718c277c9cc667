-- forecastd schema, version 5: requests end with what actually happened, daemons announce
-- themselves, old checkpoints can be pruned, and model_status shows the state the daemon
-- recorded.

-- A request ends `done` only when a version was published for it (`version` says which);
-- `not_applied` when the daemon ran it but published nothing (a fine-tune with nothing new
-- to learn, or one rejected on its holdout windows; `outcome` says why); `failed` with
-- `error`. The version, its event and the request's end commit in one transaction.
ALTER TABLE forecast.requests
    DROP CONSTRAINT requests_status_check,
    ADD CONSTRAINT requests_status_check
        CHECK (status IN ('queued', 'running', 'done', 'not_applied', 'failed')),
    ADD COLUMN version integer,
    ADD COLUMN outcome text;
COMMENT ON COLUMN forecast.requests.version IS 'The version published for this request (status done).';
COMMENT ON COLUMN forecast.requests.outcome IS 'What the daemon did, in words (done, not_applied).';

-- Running daemons. Each renews its row when it renews its leases; a row past expires_at is
-- a daemon that died (or lost the database) and holds nothing any more.
CREATE TABLE forecast.instances (
    owner        text PRIMARY KEY,
    host         text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
COMMENT ON TABLE forecast.instances IS 'forecastd processes: live while expires_at is in the future.';

-- Versions older than the newest keep_versions (a daemon setting) lose their checkpoint;
-- their rows, metrics and forecasts stay.
ALTER TABLE forecast.model_versions ALTER COLUMN checkpoint DROP NOT NULL;
COMMENT ON COLUMN forecast.model_versions.checkpoint IS 'The trained network; NULL once pruned (never for the active and the previous version).';

-- The state is the one the daemon recorded (it sets `training` only while training).
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
       CASE WHEN m.lease_expires_at > now() THEN m.lease_owner END AS worked_on_by
FROM forecast.models AS m
LEFT JOIN forecast.model_versions AS v ON v.model = m.name AND v.active
LEFT JOIN LATERAL (
    SELECT max(ss.watermark) AS newest_data,
           count(*) AS series,
           jsonb_build_object(
               'rows_read', sum((ss.quality->>'rows_read')::bigint),
               'rows_dropped', sum((ss.quality->>'rows_dropped')::bigint),
               'buckets_interpolated', sum((ss.quality->>'buckets_interpolated')::bigint),
               'buckets_missing', sum((ss.quality->>'buckets_missing')::bigint),
               'series_with_gaps', count(*) FILTER (WHERE (ss.quality->>'segments')::int > 1)
           ) AS quality
    FROM forecast.series_state AS ss WHERE ss.model = m.name
) AS s ON true;
