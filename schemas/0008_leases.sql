-- forecastd schema, version 8: leases in their own table, so no write ever blocks a renewal.
--
-- A publishing transaction checks its lease with FOR KEY SHARE on the lease row: the
-- holder's renewal (an UPDATE of expires_at, which takes FOR NO KEY UPDATE) never waits for
-- it, however long the write takes; a takeover by another daemon locks the row FOR UPDATE
-- (SKIP LOCKED), so it can only happen between the old holder's writes, and the epoch it
-- bumps fences any write the old holder starts afterwards.
CREATE TABLE forecast.leases (
    model      text PRIMARY KEY REFERENCES forecast.models (name) ON DELETE CASCADE ON UPDATE CASCADE,
    owner      text,
    expires_at timestamptz,
    epoch      bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE forecast.leases IS 'Which daemon works on each model (owner, until expires_at); epoch fences writes of a holder that lost it.';
INSERT INTO forecast.leases (model, owner, expires_at, epoch)
SELECT name, lease_owner, lease_expires_at, lease_epoch FROM forecast.models;

-- Every model has a lease row from its creation on.
CREATE FUNCTION forecast.add_lease_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO forecast.leases (model) VALUES (NEW.name) ON CONFLICT (model) DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER forecastd_lease_row AFTER INSERT ON forecast.models
FOR EACH ROW EXECUTE FUNCTION forecast.add_lease_row();

CREATE INDEX instances_live ON forecast.instances (expires_at);

-- model_status: the state is the one the daemon recorded (it sets `training` only while
-- training); who works on a model comes from the lease table; stale_series counts the
-- series without a fresh forecast (series_state.reason, version 6).
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

ALTER TABLE forecast.models DROP COLUMN lease_owner, DROP COLUMN lease_expires_at, DROP COLUMN lease_epoch;
