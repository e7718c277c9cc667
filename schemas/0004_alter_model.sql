-- forecastd schema, version 4: forecast.alter_model changes a model's settings in place.
-- create_model's checks move into forecast.validate_model, which create_model and
-- alter_model both call, and the NOTIFY trigger handling into two helpers shared with
-- drop_model. create_model and drop_model behave exactly as before.

-- Checks a model's settings the way create_model always has (the relation, its columns and
-- their types, frequency, horizon, lookback and every option) and raises the first problem
-- with its message and SQLSTATE. Returns the resolved relation, the lookback (the default
-- when `lookback` is NULL: two horizons, or four seasons of a day of steps or a week of
-- days, whichever is longer, the seasons capped at 512 steps) and the options ('{}' when
-- NULL). Writes nothing, so it also tells whether settings would be accepted.
CREATE FUNCTION forecast.validate_model(
    source text, time_column text, value_column text, series_column text, frequency interval,
    horizon integer, lookback integer, options jsonb,
    OUT relation regclass, OUT resolved_lookback integer, OUT resolved_options jsonb
)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    allowed text[] := ARRAY['layers', 'hidden', 'quantiles', 'covariates', 'calendar', 'learning_rate',
                            'max_epochs', 'update_every', 'retrain_every', 'max_history', 'timezone', 'notify'];
    key text;
    step_seconds double precision;
    season integer;
    covariate jsonb;
    q jsonb;
    previous double precision := 0;
BEGIN
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

    step_seconds := extract(epoch FROM frequency);
    season := CASE
        WHEN step_seconds < 86400 AND (86400 / step_seconds) = floor(86400 / step_seconds) THEN (86400 / step_seconds)::integer
        WHEN step_seconds = 86400 THEN 7
        ELSE 1 END;
    resolved_lookback := coalesce(lookback, greatest(2 * horizon, least(4 * season, 512), 8));
    resolved_options := options;
END;
$$;
COMMENT ON FUNCTION forecast.validate_model(text, text, text, text, interval, integer, integer, jsonb) IS
    'Check model settings as create_model and alter_model do; raises the first problem, returns the relation, lookback and options.';

-- Makes sure a table source (not a view) has the statement-level NOTIFY trigger, unless
-- options say notify: false. Returns whether the trigger is there; without permission to
-- add it, says so in a notice and returns false (forecastd then polls the source).
CREATE FUNCTION forecast.ensure_notify_trigger(relation regclass, source text, options jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT coalesce((options->>'notify')::boolean, true)
        OR (SELECT c.relkind FROM pg_class AS c WHERE c.oid = relation) NOT IN ('r', 'p') THEN
        RETURN false;
    END IF;
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = relation AND t.tgname = 'forecastd_new_data'
        ) THEN
            EXECUTE format(
                'CREATE TRIGGER forecastd_new_data AFTER INSERT OR UPDATE ON %s '
                'FOR EACH STATEMENT EXECUTE FUNCTION forecast.notify_new_data()', relation);
        END IF;
        RETURN true;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'no permission to add a trigger to %; forecastd will poll it for new data', source;
        RETURN false;
    END;
END;
$$;

-- Removes the NOTIFY trigger from `relation` unless a model still relies on it (call it
-- after the model that stopped using it was deleted or changed). NULL relation: nothing.
CREATE FUNCTION forecast.drop_unused_notify_trigger(relation regclass, source text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF relation IS NULL OR EXISTS (
        SELECT 1 FROM forecast.models AS m WHERE forecast.resolve_source(m.source) = relation AND m.notify_trigger
    ) THEN
        RETURN;
    END IF;
    BEGIN
        EXECUTE format('DROP TRIGGER IF EXISTS forecastd_new_data ON %s', relation);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'no permission to drop the trigger forecastd_new_data on %', source;
    END;
END;
$$;

-- Registers a model on a source after checking the relation, its columns and the options
-- (forecast.validate_model). Returns the new row. Options (all optional; unknown keys are
-- rejected):
--   layers (1..8, default 2), hidden (1..1024, default 64), quantiles (increasing numbers in
--   (0, 1), default [0.1, 0.5, 0.9]), covariates (numeric column names, default []),
--   calendar (boolean, default false), learning_rate (> 0, default 0.001), max_epochs
--   (1..10000, default 50), update_every (new steps per incremental update, default the
--   horizon), retrain_every (interval, default none), max_history (steps per series,
--   100..1000000, default 20000), timezone (for calendar inputs, default 'UTC'), notify
--   (install a NOTIFY trigger on a table source, default true).
CREATE OR REPLACE FUNCTION forecast.create_model(
    name text, source text, time_column text, value_column text, series_column text DEFAULT NULL,
    frequency interval DEFAULT '1 hour', horizon integer DEFAULT 24, lookback integer DEFAULT NULL,
    options jsonb DEFAULT '{}'
) RETURNS forecast.models
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    relation regclass;
    chosen_lookback integer;
    trigger_installed boolean;
    result forecast.models;
BEGIN
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'a model needs a name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM forecast.models AS m WHERE m.name = create_model.name) THEN
        RAISE EXCEPTION 'a model named % already exists', quote_literal(name) USING ERRCODE = 'duplicate_object';
    END IF;
    SELECT v.relation, v.resolved_lookback, v.resolved_options INTO relation, chosen_lookback, options
    FROM forecast.validate_model(source, time_column, value_column, series_column, frequency, horizon, lookback,
                                 options) AS v;
    trigger_installed := forecast.ensure_notify_trigger(relation, source, options);

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

-- Deletes a model with its versions, forecasts and requests; removes the source's trigger
-- when no other model reads that source.
CREATE OR REPLACE FUNCTION forecast.drop_model(model text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    dropped forecast.models;
BEGIN
    DELETE FROM forecast.models WHERE name = drop_model.model RETURNING * INTO dropped;
    IF dropped.name IS NULL THEN
        RAISE EXCEPTION 'no model named %', quote_literal(drop_model.model) USING ERRCODE = 'undefined_object';
    END IF;
    IF dropped.notify_trigger THEN
        PERFORM forecast.drop_unused_notify_trigger(forecast.resolve_source(dropped.source), dropped.source);
    END IF;
END;
$$;

-- Changes a model's settings in place. Every argument but the name defaults to NULL, which
-- keeps the current value; the result is checked exactly as create_model checks a new
-- model (forecast.validate_model: same messages, same SQLSTATEs). Returns the row.
--   options              merged into the current options (jsonb ||); a key set to JSON null
--                        is removed, so it goes back to its default:
--                        options => '{"quantiles": [0.05, 0.5, 0.95], "calendar": null}'
--   series_column        a new sensor-id column; clear_series_column => true makes the
--                        source a single series (giving both is an error)
--   lookback             kept as stored (also when the horizon changes); pass it to change it
-- The state is left alone (a paused model stays paused). Versions and forecasts are not
-- touched: the daemon sees that the settings differ from the active version's, retrains,
-- and serves the old version until the new one is ready. Moving to another source moves
-- the NOTIFY trigger as create_model and drop_model would. When something changed, bumps
-- updated_at, records an 'info' event naming the changes and notifies the daemon; when
-- nothing changed, writes nothing.
CREATE FUNCTION forecast.alter_model(
    name text, source text DEFAULT NULL, time_column text DEFAULT NULL, value_column text DEFAULT NULL,
    series_column text DEFAULT NULL, frequency interval DEFAULT NULL, horizon integer DEFAULT NULL,
    lookback integer DEFAULT NULL, options jsonb DEFAULT NULL, clear_series_column boolean DEFAULT false
) RETURNS forecast.models
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    was forecast.models;
    wanted forecast.models;
    old_relation regclass;
    relation regclass;
    changes text[] := ARRAY[]::text[];
    details jsonb := '{}';
    field text;
    before jsonb;
    after jsonb;
    key text;
    result forecast.models;
BEGIN
    SELECT * INTO was FROM forecast.models AS m WHERE m.name = alter_model.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model named %', quote_literal(name) USING ERRCODE = 'undefined_object';
    END IF;
    IF series_column IS NOT NULL AND coalesce(clear_series_column, false) THEN
        RAISE EXCEPTION 'give series_column or clear_series_column, not both'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    wanted := was;
    wanted.source := coalesce(source, was.source);
    wanted.time_column := coalesce(time_column, was.time_column);
    wanted.value_column := coalesce(value_column, was.value_column);
    wanted.series_column := CASE WHEN coalesce(clear_series_column, false) THEN NULL
                                 ELSE coalesce(series_column, was.series_column) END;
    wanted.frequency := coalesce(frequency, was.frequency);
    wanted.horizon := coalesce(horizon, was.horizon);
    wanted.lookback := coalesce(lookback, was.lookback);
    -- A non-object argument is left as it is so validate_model rejects it as create_model would.
    wanted.options := CASE WHEN options IS NULL THEN was.options
                           WHEN jsonb_typeof(options) = 'object' THEN jsonb_strip_nulls(was.options || options)
                           ELSE options END;

    SELECT v.relation, v.resolved_lookback, v.resolved_options INTO relation, wanted.lookback, wanted.options
    FROM forecast.validate_model(wanted.source, wanted.time_column, wanted.value_column, wanted.series_column,
                                 wanted.frequency, wanted.horizon, wanted.lookback, wanted.options) AS v;

    -- What changed, for the event: "horizon 24 -> 48", "options.quantiles".
    FOREACH field IN ARRAY ARRAY['source', 'time_column', 'value_column', 'series_column', 'frequency',
                                 'horizon', 'lookback'] LOOP
        before := to_jsonb(was) -> field;
        after := to_jsonb(wanted) -> field;
        IF before IS DISTINCT FROM after THEN
            changes := changes || format('%s %s -> %s', field, coalesce(before #>> '{}', 'NULL'),
                                         coalesce(after #>> '{}', 'NULL'));
            details := details || jsonb_build_object(field, jsonb_build_object('from', before, 'to', after));
        END IF;
    END LOOP;
    FOR key IN SELECT k FROM jsonb_object_keys(was.options || wanted.options) AS k ORDER BY k LOOP
        IF (was.options -> key) IS DISTINCT FROM (wanted.options -> key) THEN
            changes := changes || ('options.' || key || CASE WHEN NOT wanted.options ? key THEN ' (removed)' ELSE '' END);
        END IF;
    END LOOP;
    IF was.options IS DISTINCT FROM wanted.options THEN
        details := details || jsonb_build_object('options', jsonb_build_object('from', was.options, 'to', wanted.options));
    END IF;
    IF cardinality(changes) = 0 THEN
        RAISE NOTICE 'model % unchanged', quote_literal(name);
        RETURN was;
    END IF;

    -- The NOTIFY trigger: on the (possibly new) source as create_model would install it, and
    -- off the old one when this model was the last to rely on it.
    wanted.notify_trigger := forecast.ensure_notify_trigger(relation, wanted.source, wanted.options);
    UPDATE forecast.models AS m
    SET source = wanted.source, time_column = wanted.time_column, value_column = wanted.value_column,
        series_column = wanted.series_column, frequency = wanted.frequency, horizon = wanted.horizon,
        lookback = wanted.lookback, options = wanted.options, notify_trigger = wanted.notify_trigger,
        updated_at = now()
    WHERE m.name = alter_model.name
    RETURNING * INTO result;
    IF was.notify_trigger THEN
        old_relation := forecast.resolve_source(was.source);
        IF old_relation IS DISTINCT FROM relation OR NOT wanted.notify_trigger THEN
            PERFORM forecast.drop_unused_notify_trigger(old_relation, was.source);
        END IF;
    END IF;

    INSERT INTO forecast.events (model, level, message, details)
    VALUES (name, 'info', 'altered: ' || array_to_string(changes, ', '), details);
    PERFORM pg_notify('forecastd_requests', 'model:' || name);
    RETURN result;
END;
$$;
COMMENT ON FUNCTION forecast.alter_model(text, text, text, text, text, interval, integer, integer, jsonb, boolean) IS
    'Change a model''s settings (NULL keeps a setting; options merge, JSON null removes a key); checked as create_model checks.';
