-- forecastd schema, version 10: what charts need. Backtests keep a bounded sample of their
-- forecasts (forecastd backtest --plot draws them), and forecast.history gives a model's
-- readings on its grid in plain SQL, for dashboards that draw their own charts.

-- Whole forecasts of a backtest, compactly: one row per kept origin, the steps as arrays
-- (step k, 1-based, targets issued_at + k * frequency). Which origins are kept: those of
-- the first 5 series by name; per series, from its first scored origin on, each origin at
-- least a horizon after the previous kept one (the kept forecasts tile the test span
-- without overlapping, whatever the stride), at most 500 per series. `actual` holds the
-- values each step was scored against; `lower` and `upper` are NULL without intervals.
CREATE TABLE forecast.backtest_forecasts (
    backtest  bigint NOT NULL REFERENCES forecast.backtests (id) ON DELETE CASCADE,
    series    text NOT NULL,
    issued_at timestamptz NOT NULL,
    frequency interval NOT NULL CHECK (frequency > interval '0'),
    value     real[] NOT NULL CHECK (cardinality(value) > 0),
    lower     real[],
    upper     real[],
    actual    real[] NOT NULL,
    PRIMARY KEY (backtest, series, issued_at),
    CHECK (cardinality(actual) = cardinality(value)),
    CHECK ((lower IS NULL AND upper IS NULL)
           OR (cardinality(lower) = cardinality(value) AND cardinality(upper) = cardinality(value)))
);
COMMENT ON TABLE forecast.backtest_forecasts IS 'A bounded sample of each backtest''s forecasts (5 series, non-overlapping origins, at most 500 each), for charts.';

-- A model's readings of one series on its grid, the way the daemon reads them: one row per
-- bucket of the model's frequency (aligned to the Unix epoch in UTC) from the first to the
-- last bucket holding a valid reading, whose start lies in [from_time, to_time]; `value`
-- is the mean of the bucket's valid readings (NULL for a bucket without one: a gap), and
-- `readings` how many there were. The same bucketing and dropping rules as the daemon's
-- ingest: times converted as the daemon converts them (timestamp as UTC, date as midnight
-- UTC, numbers as epoch seconds); NULL, NaN and ±Infinity values and values beyond real's
-- range dropped; NULL and ±infinity times, times before 1970 and times more than
-- max_future steps after now() dropped. The daemon keeps each mean as a real (float4), so
-- its values agree with these to float4 precision. Defaults: to_time the newest time a
-- reading may have (now() plus max_future steps), from_time max_history steps back from
-- the series' newest valid reading (what the daemon keeps). `series` is the series column's
-- value as text; NULL or '' for a source without a series column. Identifiers are quoted,
-- values passed as parameters: any table, column or series name is safe.
CREATE FUNCTION forecast.history(
    model text, series text DEFAULT NULL, from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL)
RETURNS TABLE (bucket timestamptz, value double precision, readings integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m forecast.models%ROWTYPE;
    relation regclass;
    time_type regtype;
    value_type regtype;
    step interval;
    newest_allowed timestamptz;
    max_history bigint;
    time_sql text;
    value_sql text;
    series_sql text := 'true';
    readings_sql text;
    newest timestamptz;
    low timestamptz;
    high timestamptz;
BEGIN
    SELECT * INTO m FROM forecast.models AS x WHERE x.name = history.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model named %', quote_literal(history.model) USING ERRCODE = 'undefined_object';
    END IF;
    relation := forecast.resolve_source(m.source);
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation "%" does not exist', m.source USING ERRCODE = 'undefined_table';
    END IF;
    SELECT coalesce(nullif(t.typbasetype, 0), a.atttypid)::regtype INTO time_type
    FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid
    WHERE a.attrelid = relation AND a.attname = m.time_column AND a.attnum > 0 AND NOT a.attisdropped;
    SELECT coalesce(nullif(t.typbasetype, 0), a.atttypid)::regtype INTO value_type
    FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid
    WHERE a.attrelid = relation AND a.attname = m.value_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF time_type IS NULL OR value_type IS NULL THEN
        RAISE EXCEPTION 'column "%" does not exist in relation "%"',
            CASE WHEN time_type IS NULL THEN m.time_column ELSE m.value_column END, m.source
            USING ERRCODE = 'undefined_column';
    END IF;

    -- The frequency as plain microseconds, so '1 day' is 24 hours whatever the session's
    -- time zone (as on the daemon's grid).
    step := make_interval(secs => extract(epoch FROM m.frequency));
    newest_allowed := now() + coalesce((m.options->>'max_future')::integer, m.horizon) * step;
    max_history := coalesce((m.options->>'max_history')::bigint, 20000);

    -- The time column as timestamptz, as the daemon converts it (unconvertible: NULL).
    time_sql := CASE
        WHEN time_type = 'timestamptz'::regtype THEN format('%I', m.time_column)
        WHEN time_type = 'timestamp'::regtype THEN format('(%I AT TIME ZONE ''UTC'')', m.time_column)
        WHEN time_type = 'date'::regtype THEN format(
            '((CASE WHEN %1$I > ''200000-01-01''::date AND %1$I < ''infinity''::date '
            'THEN ''200000-01-01''::date ELSE %1$I END)::timestamp AT TIME ZONE ''UTC'')', m.time_column)
        ELSE format('(CASE WHEN %1$I BETWEEN -1e11 AND 1e11 THEN to_timestamp(%1$I::float8) END)', m.time_column)
    END;
    -- Finite values within real's range, as float8 (others: NULL, dropped).
    value_sql := format(
        '(CASE WHEN %1$I BETWEEN -340282346638528859811704183484516925440 '
        'AND 340282346638528859811704183484516925440 THEN %1$I::float8 END)', m.value_column);
    IF m.series_column IS NOT NULL THEN
        IF history.series IS NULL THEN
            RAISE EXCEPTION 'model % reads several series (column %): name one', quote_literal(m.name),
                quote_ident(m.series_column) USING ERRCODE = 'invalid_parameter_value';
        END IF;
        series_sql := format('%I::text = $1', m.series_column);
    ELSIF coalesce(history.series, '') <> '' THEN
        RETURN;  -- a source without a series column has only the series ''
    END IF;
    -- Valid readings of the series: (t timestamptz, v float8).
    readings_sql := format(
        'SELECT t, v FROM (SELECT %s AS t, %s AS v FROM %s WHERE %s) AS r '
        'WHERE t IS NOT NULL AND isfinite(t) AND t >= ''1970-01-01 00:00+00'' AND t <= $2 AND v IS NOT NULL',
        time_sql, value_sql, relation, series_sql);

    high := least(coalesce(history.to_time, newest_allowed), newest_allowed);
    IF history.from_time IS NULL THEN
        EXECUTE format('SELECT max(t) FROM (%s) AS valid', readings_sql) INTO newest USING history.series, high;
        IF newest IS NULL THEN
            RETURN;
        END IF;
        low := date_bin(step, newest, '1970-01-01 00:00+00') - (max_history - 1) * step;
    ELSE
        low := history.from_time;
    END IF;
    -- Buckets starting in [low, high]: readings from the first such bucket's start to the
    -- end of the last one.
    low := date_bin(step, low, '1970-01-01 00:00+00')
        + CASE WHEN date_bin(step, low, '1970-01-01 00:00+00') < low THEN step ELSE interval '0' END;
    IF low > high THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH binned AS ('
        '    SELECT date_bin($3, t, ''1970-01-01 00:00+00'') AS b, v FROM (%s) AS valid'
        '    WHERE t >= $4 AND t < date_bin($3, $5, ''1970-01-01 00:00+00'') + $3),'
        ' buckets AS (SELECT b, avg(v) AS mean, count(*)::integer AS n FROM binned GROUP BY b)'
        ' SELECT g.b, buckets.mean, coalesce(buckets.n, 0)'
        ' FROM (SELECT min(b) AS first, max(b) AS last FROM buckets) AS e'
        ' CROSS JOIN LATERAL generate_series(e.first, e.last, $3) AS g(b)'
        ' LEFT JOIN buckets ON buckets.b = g.b'
        ' ORDER BY g.b', readings_sql)
        USING history.series, newest_allowed, step, low, high;
END;
$$;
COMMENT ON FUNCTION forecast.history(text, text, timestamptz, timestamptz) IS 'A model''s readings of one series on its grid (mean per bucket, NULL for a gap), with the daemon''s bucketing and dropping rules.';
