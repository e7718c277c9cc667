-- forecastd schema, version 7: the max_future option (readings up to this many steps after
-- the database's now() are trusted; later ones are dropped and counted until their time
-- comes; default: one horizon). validate_model is the same as in version 4 otherwise.

CREATE OR REPLACE FUNCTION forecast.validate_model(
    source text, time_column text, value_column text, series_column text, frequency interval,
    horizon integer, lookback integer, options jsonb,
    OUT relation regclass, OUT resolved_lookback integer, OUT resolved_options jsonb
)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    allowed text[] := ARRAY['layers', 'hidden', 'quantiles', 'covariates', 'calendar', 'learning_rate',
                            'max_epochs', 'update_every', 'retrain_every', 'max_history', 'timezone', 'notify',
                            'max_future'];
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
    PERFORM forecast.check_integer_option(options, 'max_future', 0, 1000000);
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
