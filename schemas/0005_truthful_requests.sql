-- forecastd schema, version 5: requests end with what actually happened, daemons announce
-- themselves, and old checkpoints can be pruned.

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
