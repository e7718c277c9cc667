-- forecastd schema, version 1: models, their versions, forecasts and retrain requests.
-- Applied by `forecastd migrate` inside one transaction. Never edit an applied migration:
-- add a new file instead.

CREATE TABLE forecast.models (
    name          text PRIMARY KEY CHECK (name <> ''),
    -- The source relation as given (optionally schema-qualified) and its columns.
    source        text NOT NULL,
    time_column   text NOT NULL,
    value_column  text NOT NULL,
    series_column text,
    frequency     interval NOT NULL DEFAULT '1 hour' CHECK (frequency > interval '0'),
    horizon       integer NOT NULL DEFAULT 24 CHECK (horizon > 0),
    lookback      integer NOT NULL CHECK (lookback > 0),
    options       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    -- 'active' runs, 'paused' is left alone, 'training' is being trained, 'error' failed.
    state         text NOT NULL DEFAULT 'active'
                  CHECK (state IN ('active', 'paused', 'training', 'error')),
    last_error    text,
    last_error_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE forecast.models IS 'One row per forecasting model: a stacked LSTM shared by all series of its source.';

-- Trained networks. The checkpoint (forecastd''s binary format) lives here, so a restart
-- loads the active version instead of training again.
CREATE TABLE forecast.model_versions (
    model           text NOT NULL REFERENCES forecast.models (name) ON DELETE CASCADE ON UPDATE CASCADE,
    version         integer NOT NULL CHECK (version > 0),
    kind            text NOT NULL CHECK (kind IN ('full', 'finetune')),
    parent_version  integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Timestamp of the newest observation the version was trained on.
    trained_through timestamptz,
    train_loss      double precision,
    val_loss        double precision,
    metrics         jsonb NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT false,
    checkpoint      bytea NOT NULL,
    PRIMARY KEY (model, version),
    FOREIGN KEY (model, parent_version) REFERENCES forecast.model_versions (model, version)
);
CREATE UNIQUE INDEX model_versions_one_active ON forecast.model_versions (model) WHERE active;
COMMENT ON TABLE forecast.model_versions IS 'Trained versions of each model; at most one is active.';

-- Durable retrain requests from SQL (forecast.retrain) or the CLI (forecastd retrain).
CREATE TABLE forecast.requests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model        text NOT NULL REFERENCES forecast.models (name) ON DELETE CASCADE ON UPDATE CASCADE,
    mode         text NOT NULL DEFAULT 'full' CHECK (mode IN ('full', 'finetune')),
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'done', 'failed')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    error        text
);
-- At most one queued request per model and mode: a repeated request returns the queued one.
CREATE UNIQUE INDEX requests_one_queued ON forecast.requests (model, mode) WHERE status = 'queued';
CREATE INDEX requests_open ON forecast.requests (status, requested_at) WHERE status IN ('queued', 'running');

-- Forecasts. issued_at is the timestamp of the last observation the forecast used.
CREATE TABLE forecast.predictions (
    model       text NOT NULL REFERENCES forecast.models (name) ON DELETE CASCADE ON UPDATE CASCADE,
    series      text NOT NULL,
    issued_at   timestamptz NOT NULL,
    target_time timestamptz NOT NULL,
    step        integer NOT NULL CHECK (step > 0),
    value       double precision NOT NULL,
    lower       double precision,
    upper       double precision,
    quantiles   double precision[],
    version     integer NOT NULL,
    PRIMARY KEY (model, series, issued_at, target_time),
    FOREIGN KEY (model, version) REFERENCES forecast.model_versions (model, version)
);
CREATE INDEX predictions_newest ON forecast.predictions (model, series, issued_at DESC);
COMMENT ON COLUMN forecast.predictions.issued_at IS 'Timestamp of the last observation the forecast used (not the wall clock).';

-- Per model and series: how far the data has been read, and the last read's quality report.
CREATE TABLE forecast.series_state (
    model        text NOT NULL REFERENCES forecast.models (name) ON DELETE CASCADE ON UPDATE CASCADE,
    series       text NOT NULL,
    watermark    timestamptz,
    last_seen_at timestamptz,
    quality      jsonb NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, series)
);

-- The newest forecast set of every model and series.
CREATE VIEW forecast.latest AS
SELECT p.model, p.series, p.issued_at, p.target_time, p.step, p.value, p.lower, p.upper,
       p.quantiles, p.version
FROM forecast.predictions AS p
WHERE p.issued_at = (
    SELECT max(q.issued_at) FROM forecast.predictions AS q
    WHERE q.model = p.model AND q.series = p.series
);

-- Ask the daemon to retrain a model: returns the request id. A request identical to one
-- still queued returns that one's id instead of queueing twice.
CREATE FUNCTION forecast.retrain(model text, mode text DEFAULT 'full') RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    request_id bigint;
BEGIN
    IF retrain.mode IS NULL OR retrain.mode NOT IN ('full', 'finetune') THEN
        RAISE EXCEPTION 'retrain mode must be ''full'' or ''finetune'', not %',
            coalesce(quote_literal(retrain.mode), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM forecast.models AS m WHERE m.name = retrain.model) THEN
        RAISE EXCEPTION 'no model named %', quote_literal(retrain.model)
            USING ERRCODE = 'undefined_object';
    END IF;
    -- Insert, or find the queued twin; retry if the twin was picked up in between.
    LOOP
        INSERT INTO forecast.requests (model, mode) VALUES (retrain.model, retrain.mode)
        ON CONFLICT (model, mode) WHERE status = 'queued' DO NOTHING
        RETURNING id INTO request_id;
        EXIT WHEN request_id IS NOT NULL;
        SELECT r.id INTO request_id FROM forecast.requests AS r
        WHERE r.model = retrain.model AND r.mode = retrain.mode AND r.status = 'queued';
        EXIT WHEN request_id IS NOT NULL;
    END LOOP;
    PERFORM pg_notify('forecastd_requests', request_id::text);
    RETURN request_id;
END;
$$;
COMMENT ON FUNCTION forecast.retrain(text, text) IS 'Queue a full retrain or fine-tune of a model; returns the request id (the queued one if an identical request is waiting).';
