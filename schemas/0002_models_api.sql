-- forecastd schema, version 2: the SQL API for models (create, pause, resume, drop),
-- new-data notification triggers, leases for several daemons, events and model status.

-- Leases: a model is worked on by one daemon at a time. The holder renews lease_expires_at;
-- lease_epoch grows with every new holder and fences writes of a holder that lost it.
ALTER TABLE forecast.models
    ADD COLUMN lease_owner      text,
    ADD COLUMN lease_expires_at timestamptz,
    ADD COLUMN lease_epoch      bigint NOT NULL DEFAULT 0,
    -- Whether create_model installed a statement-level NOTIFY trigger on the source.
    ADD COLUMN notify_trigger   boolean NOT NULL DEFAULT false;

-- What happened to each model, newest last: training results, rejected updates, errors.
CREATE TABLE forecast.events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model   text NOT NULL REFERENCES forecast.models (name) ON DELETE CASCADE ON UPDATE CASCADE,
    at      timestamptz NOT NULL DEFAULT now(),
    level   text NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    message text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_model_at ON forecast.events (model, at DESC);

-- Finds a source the way forecastd reads it: 'schema.name' split at the first dot, else a
-- relation of that exact name on the search path. Names are literal (no case folding).
CREATE FUNCTION forecast.resolve_source(source text) RETURNS regclass
LANGUAGE plpgsql STABLE AS $$
DECLARE
    relation oid;
    dot integer := strpos(source, '.');
BEGIN
    IF dot > 0 THEN
        SELECT c.oid INTO relation
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = left(source, dot - 1) AND c.relname = substr(source, dot + 1)
          AND c.relkind IN ('r', 'v', 'm', 'p', 'f');
    END IF;
    IF relation IS NULL THEN
        SELECT c.oid INTO relation FROM pg_class AS c
        WHERE c.relname = source AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND pg_table_is_visible(c.oid)
        LIMIT 1;
    END IF;
    RETURN relation;
END;
$$;

-- Raises a clear error unless `relation` has column `col` of a usable type for `purpose`
-- ('time', 'value', 'series', 'covariate').
CREATE FUNCTION forecast.check_column(relation regclass, source text, col text, purpose text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    type_name text;
    base_type oid;
BEGIN
    IF col IS NULL OR col = '' THEN
        RAISE EXCEPTION 'the % column must be named', purpose USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod), coalesce(nullif(t.typbasetype, 0), a.atttypid)
    INTO type_name, base_type
    FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid
    WHERE a.attrelid = relation AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" does not exist in relation "%"', col, source
            USING ERRCODE = 'undefined_column';
    END IF;
    IF purpose = 'time' AND base_type NOT IN (
        'timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype, 'int2'::regtype, 'int4'::regtype,
        'int8'::regtype, 'float4'::regtype, 'float8'::regtype, 'numeric'::regtype) THEN
        RAISE EXCEPTION 'column "%" has type %, expected timestamptz, timestamp, date or epoch seconds (a number)',
            col, type_name USING ERRCODE = 'datatype_mismatch';
    END IF;
    IF purpose IN ('value', 'covariate') AND base_type NOT IN (
        'int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype, 'float8'::regtype,
        'numeric'::regtype) THEN
        RAISE EXCEPTION 'column "%" has type %, expected a number', col, type_name
            USING ERRCODE = 'datatype_mismatch';
    END IF;
END;
$$;

-- Statement-level trigger function: tells listening daemons that a source has new rows.
CREATE FUNCTION forecast.notify_new_data() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('forecastd_data', TG_RELID::text);
    RETURN NULL;
END;
$$;

-- Registers a model on a source after checking the relation, its columns and the options.
-- Returns the new row. Options (all optional; unknown keys are rejected):
--   layers (1..8, default 2), hidden (1..1024, default 64), quantiles (increasing numbers in
--   (0, 1), default [0.1, 0.5, 0.9]), covariates (numeric column names, default []),
--   calendar (boolean, default false), learning_rate (> 0, default 0.001), max_epochs
--   (1..10000, default 50), update_every (new steps per incremental update, default the
--   horizon), retrain_every (interval, default none), max_history (steps per series,
--   100..1000000, default 20000), timezone (for calendar inputs, default 'UTC'), notify
--   (install a NOTIFY trigger on a table source, default true).
CREATE FUNCTION forecast.create_model(
    name text, source text, time_column text, value_column text, series_column text DEFAULT NULL,
    frequency interval DEFAULT '1 hour', horizon integer DEFAULT 24, lookback integer DEFAULT NULL,
    options jsonb DEFAULT '{}'
) RETURNS forecast.models
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    relation regclass;
    relation_kind "char";
    allowed text[] := ARRAY['layers', 'hidden', 'quantiles', 'covariates', 'calendar', 'learning_rate',
                            'max_epochs', 'update_every', 'retrain_every', 'max_history', 'timezone', 'notify'];
    key text;
    step_seconds double precision;
    season integer;
    chosen_lookback integer;
    covariate jsonb;
    q jsonb;
    previous double precision := 0;
    trigger_installed boolean := false;
    result forecast.models;
BEGIN
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'a model needs a name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM forecast.models AS m WHERE m.name = create_model.name) THEN
        RAISE EXCEPTION 'a model named % already exists', quote_literal(name) USING ERRCODE = 'duplicate_object';
    END IF;
    relation := forecast.resolve_source(source);
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation "%" does not exist (or is not visible on the search path)', source
            USING ERRCODE = 'undefined_table';
    END IF;
    PERFORM forecast.check_column(relation, source, time_column, 'time');
    PERFORM forecast.check_column(relation, source, value_column, 'value');
    IF series_column IS NOT NULL THEN
        PERFORM forecast.check_column(relation, source, series_column, 'series');
    END IF;

    IF frequency IS NULL OR frequency <= interval '0' OR extract(month FROM frequency) <> 0
        OR extract(year FROM frequency) <> 0 THEN
        RAISE EXCEPTION 'frequency % must be a positive fixed-length interval (no months or years)', frequency
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF horizon IS NULL OR horizon < 1 OR horizon > 10000 THEN
        RAISE EXCEPTION 'horizon must be between 1 and 10000, not %', horizon USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF lookback IS NOT NULL AND (lookback < 1 OR lookback > 100000) THEN
        RAISE EXCEPTION 'lookback must be between 1 and 100000, not %', lookback
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    options := coalesce(options, '{}');
    IF jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key IN SELECT jsonb_object_keys(options) LOOP
        IF NOT key = ANY (allowed) THEN
            RAISE EXCEPTION 'unknown option "%"; known options: %', key, array_to_string(allowed, ', ')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    PERFORM forecast.check_integer_option(options, 'layers', 1, 8);
    PERFORM forecast.check_integer_option(options, 'hidden', 1, 1024);
    PERFORM forecast.check_integer_option(options, 'max_epochs', 1, 10000);
    PERFORM forecast.check_integer_option(options, 'update_every', 1, 1000000);
    PERFORM forecast.check_integer_option(options, 'max_history', 100, 1000000);
    IF options ? 'learning_rate' AND (jsonb_typeof(options->'learning_rate') <> 'number'
        OR (options->>'learning_rate')::float8 <= 0 OR (options->>'learning_rate')::float8 > 1) THEN
        RAISE EXCEPTION 'option learning_rate must be a number in (0, 1]' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH key IN ARRAY ARRAY['calendar', 'notify'] LOOP
        IF options ? key AND jsonb_typeof(options->key) <> 'boolean' THEN
            RAISE EXCEPTION 'option % must be true or false', key USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF options ? 'quantiles' THEN
        IF jsonb_typeof(options->'quantiles') <> 'array' OR jsonb_array_length(options->'quantiles') = 0 THEN
            RAISE EXCEPTION 'option quantiles must be a non-empty array of increasing numbers in (0, 1)'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR q IN SELECT jsonb_array_elements(options->'quantiles') LOOP
            IF jsonb_typeof(q) <> 'number' OR q::text::float8 <= previous OR q::text::float8 >= 1 THEN
                RAISE EXCEPTION 'option quantiles must be a non-empty array of increasing numbers in (0, 1)'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            previous := q::text::float8;
        END LOOP;
    END IF;
    IF options ? 'covariates' THEN
        IF jsonb_typeof(options->'covariates') <> 'array' THEN
            RAISE EXCEPTION 'option covariates must be an array of column names' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR covariate IN SELECT jsonb_array_elements(options->'covariates') LOOP
            IF jsonb_typeof(covariate) <> 'string' THEN
                RAISE EXCEPTION 'option covariates must be an array of column names'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM forecast.check_column(relation, source, covariate #>> '{}', 'covariate');
        END LOOP;
    END IF;
    IF options ? 'retrain_every' THEN
        BEGIN
            IF (options->>'retrain_every')::interval <= interval '0' THEN
                RAISE EXCEPTION 'not positive';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'option retrain_every must be a positive interval such as ''7 days'''
                USING ERRCODE = 'invalid_parameter_value';
        END;
    END IF;
    IF options ? 'timezone' THEN
        IF jsonb_typeof(options->'timezone') <> 'string'
            OR NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE pg_timezone_names.name = options->>'timezone') THEN
            RAISE EXCEPTION 'option timezone must be a time zone name such as ''Europe/Berlin'''
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    -- Default lookback: two horizons, or four seasons (a day of steps, or a week of days),
    -- whichever is longer, the seasons capped at 512 steps.
    step_seconds := extract(epoch FROM frequency);
    season := CASE
        WHEN step_seconds < 86400 AND (86400 / step_seconds) = floor(86400 / step_seconds) THEN (86400 / step_seconds)::integer
        WHEN step_seconds = 86400 THEN 7
        ELSE 1 END;
    chosen_lookback := coalesce(lookback, greatest(2 * horizon, least(4 * season, 512), 8));

    SELECT c.relkind INTO relation_kind FROM pg_class AS c WHERE c.oid = relation;
    IF relation_kind IN ('r', 'p') AND coalesce((options->>'notify')::boolean, true) THEN
        BEGIN
            IF NOT EXISTS (
                SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = relation AND t.tgname = 'forecastd_new_data'
            ) THEN
                EXECUTE format(
                    'CREATE TRIGGER forecastd_new_data AFTER INSERT OR UPDATE ON %s '
                    'FOR EACH STATEMENT EXECUTE FUNCTION forecast.notify_new_data()', relation);
            END IF;
            trigger_installed := true;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'no permission to add a trigger to %; forecastd will poll it for new data', source;
        END;
    END IF;

    INSERT INTO forecast.models (name, source, time_column, value_column, series_column, frequency, horizon,
                                 lookback, options, notify_trigger)
    VALUES (name, source, time_column, value_column, series_column, frequency, horizon, chosen_lookback,
            options, trigger_installed)
    RETURNING * INTO result;
    INSERT INTO forecast.events (model, level, message) VALUES (name, 'info', 'model created');
    PERFORM pg_notify('forecastd_requests', 'model:' || name);
    RETURN result;
END;
$$;

-- Raises unless options->key is absent or an integer in [low, high].
CREATE FUNCTION forecast.check_integer_option(options jsonb, key text, low integer, high integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF options ? key AND (jsonb_typeof(options->key) <> 'number'
        OR (options->>key)::numeric <> trunc((options->>key)::numeric)
        OR (options->>key)::numeric NOT BETWEEN low AND high) THEN
        RAISE EXCEPTION 'option % must be an integer between % and %', key, low, high
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END;
$$;

-- Stops the daemon from working on a model (its forecasts stay readable).
CREATE FUNCTION forecast.pause(model text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    UPDATE forecast.models SET state = 'paused', updated_at = now() WHERE name = pause.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model named %', quote_literal(pause.model) USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO forecast.events (model, level, message) VALUES (pause.model, 'info', 'paused');
END;
$$;

-- Lets the daemon work on a paused (or failed) model again.
CREATE FUNCTION forecast.resume(model text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    UPDATE forecast.models SET state = 'active', last_error = NULL, updated_at = now() WHERE name = resume.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model named %', quote_literal(resume.model) USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO forecast.events (model, level, message) VALUES (resume.model, 'info', 'resumed');
    PERFORM pg_notify('forecastd_requests', 'model:' || resume.model);
END;
$$;

-- Deletes a model with its versions, forecasts and requests; removes the source's trigger
-- when no other model reads that source.
CREATE FUNCTION forecast.drop_model(model text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    dropped forecast.models;
    relation regclass;
BEGIN
    DELETE FROM forecast.models WHERE name = drop_model.model RETURNING * INTO dropped;
    IF dropped.name IS NULL THEN
        RAISE EXCEPTION 'no model named %', quote_literal(drop_model.model) USING ERRCODE = 'undefined_object';
    END IF;
    relation := forecast.resolve_source(dropped.source);
    IF dropped.notify_trigger AND relation IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM forecast.models AS m WHERE forecast.resolve_source(m.source) = relation AND m.notify_trigger
    ) THEN
        BEGIN
            EXECUTE format('DROP TRIGGER IF EXISTS forecastd_new_data ON %s', relation);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'no permission to drop the trigger forecastd_new_data on %', dropped.source;
        END;
    END IF;
END;
$$;

-- One row per model: what it is doing, its last error, its active version, its newest
-- forecast and data, and a summary of the data quality of its series' last reads.
CREATE VIEW forecast.model_status AS
SELECT m.name AS model,
       CASE WHEN m.state = 'active' AND EXISTS (
                SELECT 1 FROM forecast.requests AS r WHERE r.model = m.name AND r.status = 'running')
            THEN 'training' ELSE m.state END AS state,
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
