-- forecastd schema, version 11: forecast storage for plant scale.
--
-- Version 1 stored one row per forecast step, about 290 bytes each with its indexes (7 MB
-- per cycle at 1,000 series and horizon 24, scoring included; scripts/bench-storage), and
-- `forecast.latest` looked for the newest set of every row among all history. Now:
--
--   forecast.sets         history: one row per model, series and issued set, its steps as
--                         arrays; partitioned by week of issued_at, so retention drops
--                         whole partitions. Once all its targets have come, a set holds its
--                         actuals too (scored), written once
--   forecast.latest_sets  the newest set of every model and series (the writer keeps it),
--                         so reading a model's latest forecasts costs its series x horizon
--   forecast.actuals      one row per model, series and target time once it came: the
--                         actual and the seasonal-naive values, shared by every set that
--                         forecast that time, so scoring writes one row per series and step
--                         instead of rewriting every set in flight (partitioned by week of
--                         target_time)
--
-- A model is referred to by a small integer id (`forecast.models.id`); `name` stays the
-- key users see. The views `forecast.predictions`, `forecast.latest`, `forecast.accuracy`
-- and `forecast.model_status` keep their columns, and inserting into `forecast.predictions`
-- still works (a trigger files the row into its set). Existing forecasts are carried over.

-- Models get a small id for the forecast tables.
ALTER TABLE forecast.models ADD COLUMN id integer GENERATED ALWAYS AS IDENTITY;
ALTER TABLE forecast.models ADD CONSTRAINT models_id_key UNIQUE (id);
COMMENT ON COLUMN forecast.models.id IS 'Small id the forecast tables use; name is the key users see.';

-- One step of a forecast set, as forecast.predictions shows it.
CREATE TYPE forecast.forecast_step AS (
    step        integer,
    target_time timestamptz,
    value       double precision,
    lower       double precision,
    upper       double precision,
    quantiles   double precision[]
);

-- Packs the steps of one set into the stored form (see forecast.sets); unpack_steps is its
-- inverse. Of two steps with one number, the one with the later target is kept.
CREATE FUNCTION forecast.pack_steps(
    issued_at timestamptz, steps forecast.forecast_step[],
    OUT step_interval interval, OUT levels integer, OUT value double precision[],
    OUT lower double precision[], OUT upper double precision[], OUT quantiles double precision[],
    OUT target_times timestamptz[]
)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH given AS (
    SELECT DISTINCT ON (s.step) s.*,
           ((extract(epoch FROM s.target_time) - extract(epoch FROM pack_steps.issued_at)) * 1000000)::bigint
               AS offset_us
    FROM unnest(pack_steps.steps) AS s
    WHERE s.step > 0
    ORDER BY s.step, s.target_time DESC
), shape AS (
    SELECT max(g.step) AS n, coalesce(max(cardinality(g.quantiles)), 0) AS l,
           (array_agg(g.offset_us / g.step ORDER BY g.step))[1] AS spacing_us
    FROM given AS g
), grid AS (
    SELECT i, g.* FROM shape CROSS JOIN generate_series(1, shape.n) AS i LEFT JOIN given AS g ON g.step = i
)
SELECT shape.spacing_us * interval '1 microsecond',
       shape.l,
       a.value,
       CASE WHEN a.lower_derived THEN NULL ELSE a.lower END,
       CASE WHEN a.upper_derived THEN NULL ELSE a.upper END,
       (SELECT array_agg(grid.quantiles[j] ORDER BY grid.i, j) FROM grid CROSS JOIN generate_series(1, shape.l) AS j),
       CASE WHEN a.regular THEN NULL ELSE a.target_times END
FROM shape CROSS JOIN LATERAL (
    SELECT array_agg(grid.value ORDER BY grid.i) AS value,
           array_agg(grid.lower ORDER BY grid.i) AS lower,
           array_agg(grid.upper ORDER BY grid.i) AS upper,
           array_agg(grid.target_time ORDER BY grid.i) AS target_times,
           -- Bit for bit, so -0.0 and 0.0 stay apart.
           bool_and(grid.step IS NULL
                    OR float8send(grid.lower) IS NOT DISTINCT FROM float8send(grid.quantiles[1])) AS lower_derived,
           bool_and(grid.step IS NULL
                    OR float8send(grid.upper) IS NOT DISTINCT FROM float8send(grid.quantiles[shape.l])) AS upper_derived,
           bool_and(grid.step IS NULL OR grid.offset_us = grid.step * shape.spacing_us) AS regular
    FROM grid
) AS a
$$;

-- The steps of a stored set, as forecast.predictions shows them (inlined into the views).
CREATE FUNCTION forecast.unpack_steps(
    issued_at timestamptz, step_interval interval, levels integer, value double precision[],
    lower double precision[], upper double precision[], quantiles double precision[], target_times timestamptz[]
) RETURNS TABLE (
    step integer, target_time timestamptz, value double precision, lower double precision,
    upper double precision, quantiles double precision[]
)
-- PARALLEL SAFE: the planner judges a query's parallel safety before inlining.
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT u.i::integer,
       CASE WHEN unpack_steps.target_times IS NULL THEN unpack_steps.issued_at + u.i * unpack_steps.step_interval
            ELSE unpack_steps.target_times[u.i] END,
       u.v,
       CASE WHEN unpack_steps.lower IS NULL THEN unpack_steps.quantiles[(u.i - 1) * unpack_steps.levels + 1]
            ELSE unpack_steps.lower[u.i] END,
       CASE WHEN unpack_steps.upper IS NULL THEN unpack_steps.quantiles[u.i * unpack_steps.levels]
            ELSE unpack_steps.upper[u.i] END,
       -- A step whose quantiles are all NULL had none (only in carried-over or inserted sets
       -- that mix steps with and without; forecastd's never start with a NULL).
       CASE WHEN unpack_steps.levels = 0 THEN NULL
            WHEN unpack_steps.quantiles[(u.i - 1) * unpack_steps.levels + 1] IS NOT NULL
                THEN unpack_steps.quantiles[(u.i - 1) * unpack_steps.levels + 1 : u.i * unpack_steps.levels]
            ELSE nullif(unpack_steps.quantiles[(u.i - 1) * unpack_steps.levels + 1 : u.i * unpack_steps.levels],
                        array_fill(NULL::double precision, ARRAY[unpack_steps.levels])) END
FROM unnest(unpack_steps.value) WITH ORDINALITY AS u (v, i)
WHERE u.v IS NOT NULL
$$;

-- History: every issued set, one row per model, series and issued_at. Steps are 1-based
-- array positions: value[i] is step i (NULL: the set has no step i); its target is
-- issued_at + i * step_interval, or target_times[i] when the targets are not evenly spaced
-- (target_times is NULL otherwise). quantiles holds `levels` values per step, step after
-- step (step i at (i - 1) * levels + 1 .. i * levels). lower and upper are NULL when they
-- are the first and the last quantile of every step (what forecastd writes). A set is
-- `scored` once actuals are recorded through its last target: actual[i] and
-- seasonal_naive[i] then hold step i's (NULL: no reading); until then they are NULL and
-- forecast.actuals has them.
CREATE TABLE forecast.sets (
    model_id       integer NOT NULL REFERENCES forecast.models (id) ON DELETE CASCADE,
    series         text NOT NULL,
    issued_at      timestamptz NOT NULL,
    step_interval  interval NOT NULL,
    version        integer NOT NULL,
    levels         integer NOT NULL DEFAULT 0 CHECK (levels >= 0),
    value          double precision[] NOT NULL,
    lower          double precision[],
    upper          double precision[],
    quantiles      double precision[],
    target_times   timestamptz[],
    scored         boolean NOT NULL DEFAULT false,
    actual         double precision[],
    seasonal_naive double precision[],
    PRIMARY KEY (model_id, series, issued_at)
) PARTITION BY RANGE (issued_at);
-- Scoring finds the sets still in flight through this (a few per series), never the history.
CREATE INDEX sets_unscored ON forecast.sets (model_id, issued_at) WHERE NOT scored;
COMMENT ON TABLE forecast.sets IS 'Every issued forecast set (read it through forecast.predictions); weekly partitions of issued_at.';

-- The newest set of every model and series, in the same form, kept by the writer. Updated
-- in place every cycle (fillfactor 50 keeps the updates on their page).
CREATE TABLE forecast.latest_sets (
    model_id        integer NOT NULL REFERENCES forecast.models (id) ON DELETE CASCADE,
    series          text NOT NULL,
    issued_at       timestamptz NOT NULL,
    step_interval   interval NOT NULL,
    version         integer NOT NULL,
    levels          integer NOT NULL DEFAULT 0 CHECK (levels >= 0),
    value           double precision[] NOT NULL,
    lower           double precision[],
    upper           double precision[],
    quantiles       double precision[],
    target_times    timestamptz[],
    -- Actuals are recorded for this series' targets up to here (forecast.actuals).
    actuals_through timestamptz NOT NULL,
    -- When forecastd last wrote a set of this series (the clock; retention reads it).
    written_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, series)
) WITH (fillfactor = 50);
COMMENT ON TABLE forecast.latest_sets IS 'The newest forecast set of every model and series (read it through forecast.latest).';

-- Live scoring: per model, series and target time that has come, the actual value and
-- the seasonal-naive forecast of it: seasonal_naive[k] is the value k seasons (`season`
-- steps) before, the naive forecast for steps (k - 1) * season + 1 .. k * season.
CREATE TABLE forecast.actuals (
    model_id       integer NOT NULL REFERENCES forecast.models (id) ON DELETE CASCADE,
    series         text NOT NULL,
    target_time    timestamptz NOT NULL,
    actual         double precision NOT NULL,
    season         integer NOT NULL CHECK (season > 0),
    seasonal_naive double precision[],
    PRIMARY KEY (model_id, series, target_time)
) PARTITION BY RANGE (target_time);
COMMENT ON TABLE forecast.actuals IS 'Actual and seasonal-naive values of matured forecast targets; weekly partitions of target_time.';

-- The partitions of forecast.sets and forecast.actuals with their ranges.
CREATE VIEW forecast.partitions AS
SELECT c.oid::regclass AS partition,
       p.relname::text AS parent,
       substring(b.bound FROM $re$FROM \('([^']+)'\)$re$)::timestamptz AS starts,
       substring(b.bound FROM $re$TO \('([^']+)'\)$re$)::timestamptz AS ends
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
JOIN pg_class AS p ON p.oid = i.inhparent
CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) AS b
WHERE i.inhparent IN ('forecast.sets'::regclass, 'forecast.actuals'::regclass);
COMMENT ON VIEW forecast.partitions IS 'Weekly partitions of forecast.sets (by issued_at) and forecast.actuals (by target_time).';

-- Creates the partitions of forecast.sets and forecast.actuals for the week (Monday 00:00
-- UTC, seven days) holding `at`, unless they exist. Returns whether it created any. Runs
-- as the schema's owner, so the daemon's role needs no right to create tables.
--
-- Creating a partition takes an ACCESS EXCLUSIVE lock on forecast.sets and forecast.actuals
-- and a SHARE ROW EXCLUSIVE lock on forecast.models (the foreign key) until the transaction
-- ends: it gives up after 5 s behind a long query instead of queueing every reader.
CREATE FUNCTION forecast.ensure_partition(at timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET timezone = 'UTC' SET datestyle = 'ISO, YMD' SET lock_timeout = '5s' AS $$
DECLARE
    starts timestamptz;
    parent text;
    name text;
    created boolean := false;
BEGIN
    IF at IS NULL OR NOT isfinite(at) THEN
        RAISE EXCEPTION 'a forecast partition needs a finite time, not %', coalesce(at::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    starts := date_trunc('week', at);
    FOREACH parent IN ARRAY ARRAY['sets', 'actuals'] LOOP
        name := parent || '_' || to_char(starts, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('forecast.%I', name)) IS NOT NULL;
        -- Concurrent writers: the second waits for the first to commit, then finds it.
        PERFORM pg_advisory_xact_lock(hashtext('forecast.partitions'), hashtext(name));
        CONTINUE WHEN to_regclass(format('forecast.%I', name)) IS NOT NULL;
        EXECUTE format('CREATE TABLE forecast.%I PARTITION OF forecast.%I FOR VALUES FROM (%L) TO (%L)',
                       name, parent, starts, starts + interval '7 days');
        created := true;
    END LOOP;
    RETURN created;
END;
$$;
COMMENT ON FUNCTION forecast.ensure_partition(timestamptz) IS 'Create the forecast partitions of the week holding a time (the writer calls it for the times it writes).';

-- Creates the forecast partitions of every week from this one (by the clock) through
-- `through`, so the writer rarely has to; returns how many weeks it added.
CREATE FUNCTION forecast.ensure_partitions(through timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    week timestamptz := date_trunc('week', now(), 'UTC');
    added integer := 0;
BEGIN
    IF through IS NULL OR NOT isfinite(through) OR through > now() + interval '5 years' THEN
        RAISE EXCEPTION 'forecast partitions are created ahead for at most five years, not through %',
            coalesce(through::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE week <= through LOOP
        IF forecast.ensure_partition(week) THEN
            added := added + 1;
        END IF;
        week := week + interval '7 days';
    END LOOP;
    RETURN added;
END;
$$;
COMMENT ON FUNCTION forecast.ensure_partitions(timestamptz) IS 'Create the forecast partitions of every week from the current one through a time.';

-- Retention: drops the partitions of forecast.sets and forecast.actuals that ended `keep`
-- ago, both by the clock and counted back from the newest forecast of every model with
-- rows in them (data time: a replayed history keeps its recent part). A model whose last
-- set was written more than `keep` ago holds nothing back; each series' newest set stays
-- in forecast.latest_sets (forecast.latest) whatever is dropped. Returns the
-- number of partitions dropped; 0 when another process is already at it. Dropping locks the
-- parent: it gives up after 2 s behind a long query (and is tried again later).
CREATE FUNCTION forecast.drop_expired_partitions(keep interval) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET timezone = 'UTC' SET datestyle = 'ISO, YMD' SET lock_timeout = '2s' AS $$
DECLARE
    part record;
    holding integer[];
    held boolean;
    dropped integer := 0;
BEGIN
    IF keep IS NULL OR keep < interval '0' THEN
        RAISE EXCEPTION 'keep must not be a negative interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('forecast.partitions'), 0) THEN
        RETURN 0;
    END IF;
    FOR part IN
        SELECT p.partition, p.parent, p.starts, p.ends FROM forecast.partitions AS p
        WHERE p.ends <= now() - keep ORDER BY p.starts, p.parent
    LOOP
        SELECT array_agg(n.model_id) INTO holding
        FROM (SELECT l.model_id FROM forecast.latest_sets AS l GROUP BY l.model_id
              HAVING max(l.issued_at) - keep < part.ends AND max(l.written_at) > now() - keep) AS n;
        IF holding IS NOT NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE model_id = ANY ($1))', part.partition)
                INTO held USING holding;
            CONTINUE WHEN held;
        END IF;
        EXECUTE format('DROP TABLE %s', part.partition);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END;
$$;
COMMENT ON FUNCTION forecast.drop_expired_partitions(interval) IS 'Retention: drop the forecast partitions older than keep (by the clock and by each model''s newest forecast).';

-- Creating and dropping partitions is for forecastd (forecast_writer) and the owner only.
REVOKE EXECUTE ON FUNCTION forecast.ensure_partition(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION forecast.ensure_partitions(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION forecast.drop_expired_partitions(interval) FROM PUBLIC;

-- The actuals of one set's steps, by step, from forecast.actuals (NULL: none recorded).
CREATE FUNCTION forecast.set_actuals(
    model_id integer, series text, issued_at timestamptz, step_interval interval, steps integer,
    target_times timestamptz[], OUT actual double precision[], OUT seasonal_naive double precision[]
)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT array_agg(a.actual ORDER BY i), array_agg(a.seasonal_naive[(i + a.season - 1) / a.season] ORDER BY i)
FROM generate_series(1, set_actuals.steps) AS i
LEFT JOIN LATERAL (
    SELECT x.actual, x.season, x.seasonal_naive FROM forecast.actuals AS x
    WHERE x.model_id = set_actuals.model_id AND x.series = set_actuals.series
      AND x.target_time = CASE WHEN set_actuals.target_times IS NULL
                               THEN set_actuals.issued_at + i * set_actuals.step_interval
                               ELSE set_actuals.target_times[i] END
    LIMIT 1) AS a ON true
$$;

-- Scoring: writes the actuals of every set of model `model_id` whose targets have all been
-- recorded (its series' actuals_through reached its last target) into the set's row, by
-- step, and marks it scored, so history reads without a join. Each set is written once;
-- the partial index sets_unscored finds them. Returns how many sets it scored.
CREATE FUNCTION forecast.fold_actuals(model_id integer) RETURNS integer
LANGUAGE sql AS $$
WITH folded AS (
    UPDATE forecast.sets AS s
    SET (actual, seasonal_naive, scored) = (
        SELECT f.actual, f.seasonal_naive, true
        FROM forecast.set_actuals(s.model_id, s.series, s.issued_at, s.step_interval, cardinality(s.value),
                                  s.target_times) AS f)
    FROM forecast.latest_sets AS l
    WHERE s.model_id = fold_actuals.model_id AND NOT s.scored
      AND l.model_id = s.model_id AND l.series = s.series
      AND l.actuals_through >= CASE WHEN s.target_times IS NULL THEN s.issued_at + cardinality(s.value) * s.step_interval
                                    ELSE (SELECT max(t) FROM unnest(s.target_times) AS t) END
    RETURNING 1
)
SELECT count(*)::integer FROM folded
$$;
COMMENT ON FUNCTION forecast.fold_actuals(integer) IS 'Scoring: copy the actuals of a model''s fully matured sets into their rows (forecastd calls it as it records actuals).';

-- Carry the forecasts over: actuals from the scored steps (per target the actual of the
-- newest set; seasonal-naive values by step, season 1), sets from the steps, the newest set
-- of every series into latest_sets. Steps of one set with different versions take the
-- newest version.
ALTER TABLE forecast.predictions RENAME TO predictions_before_0011;
DROP VIEW forecast.latest;
DROP VIEW forecast.accuracy;
DROP VIEW forecast.model_status;

SELECT count(forecast.ensure_partition(w.week))
FROM (SELECT date_trunc('week', issued_at, 'UTC') AS week FROM forecast.predictions_before_0011
      UNION
      SELECT date_trunc('week', target_time, 'UTC') FROM forecast.predictions_before_0011 WHERE actual IS NOT NULL)
    AS w;

WITH scored AS (
    SELECT DISTINCT ON (model, series, target_time, step) model, series, target_time, step, issued_at, actual,
           seasonal_naive
    FROM forecast.predictions_before_0011 WHERE actual IS NOT NULL
    ORDER BY model, series, target_time, step, issued_at DESC
), targets AS (
    SELECT model, series, target_time, max(step) AS steps, (array_agg(actual ORDER BY issued_at DESC))[1] AS actual,
           count(seasonal_naive) AS naive_values
    FROM scored GROUP BY model, series, target_time
), naive AS (
    SELECT t.model, t.series, t.target_time, array_agg(s.seasonal_naive ORDER BY i) AS seasonal_naive
    FROM targets AS t
    CROSS JOIN LATERAL generate_series(1, t.steps) AS i
    LEFT JOIN scored AS s
        ON s.model = t.model AND s.series = t.series AND s.target_time = t.target_time AND s.step = i
    WHERE t.naive_values > 0
    GROUP BY t.model, t.series, t.target_time
)
INSERT INTO forecast.actuals (model_id, series, target_time, actual, season, seasonal_naive)
SELECT m.id, t.series, t.target_time, t.actual, 1, n.seasonal_naive
FROM targets AS t
JOIN forecast.models AS m ON m.name = t.model
LEFT JOIN naive AS n ON n.model = t.model AND n.series = t.series AND n.target_time = t.target_time;

-- Sets whose targets have all been scored (through the series' newest scored target) are
-- carried over scored, holding their actuals.
INSERT INTO forecast.sets
    (model_id, series, issued_at, step_interval, version, levels, value, lower, upper, quantiles, target_times,
     scored, actual, seasonal_naive)
SELECT m.id, p.series, p.issued_at, k.step_interval, p.version, k.levels, k.value, k.lower, k.upper, k.quantiles,
       k.target_times, f.actual IS NOT NULL, f.actual, f.seasonal_naive
FROM (SELECT model, series, issued_at, max(version) AS version, max(target_time) AS last_target,
             array_agg(ROW(step, target_time, value, lower, upper, quantiles)::forecast.forecast_step) AS steps
      FROM forecast.predictions_before_0011 GROUP BY model, series, issued_at) AS p
JOIN forecast.models AS m ON m.name = p.model
CROSS JOIN LATERAL forecast.pack_steps(p.issued_at, p.steps) AS k
LEFT JOIN (SELECT model_id, series, max(target_time) AS through FROM forecast.actuals GROUP BY model_id, series) AS t
    ON t.model_id = m.id AND t.series = p.series
LEFT JOIN LATERAL forecast.set_actuals(m.id, p.series, p.issued_at, k.step_interval, cardinality(k.value),
                                       k.target_times) AS f
    ON p.last_target <= t.through;

INSERT INTO forecast.latest_sets
    (model_id, series, issued_at, step_interval, version, levels, value, lower, upper, quantiles, target_times,
     actuals_through)
SELECT DISTINCT ON (s.model_id, s.series)
       s.model_id, s.series, s.issued_at, s.step_interval, s.version, s.levels, s.value, s.lower, s.upper,
       s.quantiles, s.target_times,
       -- Recorded through the newest scored target, else from the oldest set on.
       coalesce((SELECT max(a.target_time) FROM forecast.actuals AS a
                 WHERE a.model_id = s.model_id AND a.series = s.series),
                (SELECT min(o.issued_at) FROM forecast.sets AS o
                 WHERE o.model_id = s.model_id AND o.series = s.series))
FROM forecast.sets AS s
ORDER BY s.model_id, s.series, s.issued_at DESC;

DROP TABLE forecast.predictions_before_0011;

-- Every issued forecast step, as before: scored sets with the actuals they hold, sets in
-- flight with those recorded so far in forecast.actuals (one look-up per step; LIMIT keeps
-- it one, where a join would have the planner carry whole sets through a sort).
CREATE VIEW forecast.predictions AS
SELECT m.name AS model, s.series, s.issued_at, u.target_time, u.step, u.value, u.lower, u.upper, u.quantiles,
       s.version, s.actual[u.step] AS actual, s.seasonal_naive[u.step] AS seasonal_naive
FROM forecast.sets AS s
JOIN forecast.models AS m ON m.id = s.model_id
CROSS JOIN LATERAL forecast.unpack_steps(
    s.issued_at, s.step_interval, s.levels, s.value, s.lower, s.upper, s.quantiles, s.target_times) AS u
WHERE s.scored
UNION ALL
SELECT m.name, s.series, s.issued_at, u.target_time, u.step, u.value, u.lower, u.upper, u.quantiles,
       s.version, a.actual, a.seasonal_naive
FROM forecast.sets AS s
JOIN forecast.models AS m ON m.id = s.model_id
CROSS JOIN LATERAL forecast.unpack_steps(
    s.issued_at, s.step_interval, s.levels, s.value, s.lower, s.upper, s.quantiles, s.target_times) AS u
LEFT JOIN LATERAL (
    SELECT x.actual, x.seasonal_naive[(u.step + x.season - 1) / x.season] AS seasonal_naive
    FROM forecast.actuals AS x
    WHERE x.model_id = s.model_id AND x.series = s.series AND x.target_time = u.target_time
    LIMIT 1
) AS a ON true
WHERE NOT s.scored;
COMMENT ON VIEW forecast.predictions IS 'Every issued forecast step with its actual once matured (one row per model, series, issued_at and step).';
COMMENT ON COLUMN forecast.predictions.issued_at IS 'Timestamp of the last observation the forecast used (not the wall clock).';

-- The newest forecast set of every model and series, with whether it is stale: the series
-- has readings newer than the set (or a reason it could not be forecast).
CREATE VIEW forecast.latest AS
SELECT m.name AS model, l.series, l.issued_at, u.target_time, u.step, u.value, u.lower, u.upper, u.quantiles,
       l.version,
       coalesce(ss.watermark > l.issued_at OR ss.reason IS NOT NULL, false) AS stale
FROM forecast.latest_sets AS l
JOIN forecast.models AS m ON m.id = l.model_id
CROSS JOIN LATERAL forecast.unpack_steps(
    l.issued_at, l.step_interval, l.levels, l.value, l.lower, l.upper, l.quantiles, l.target_times) AS u
LEFT JOIN forecast.series_state AS ss ON ss.model = m.name AND ss.series = l.series;

-- How good issued forecasts really were, per model, series and horizon step (as in
-- version 3): scored sets are read alone, the steps of sets in flight are looked up in
-- forecast.actuals.
CREATE VIEW forecast.accuracy AS
SELECT p.model, p.series, p.step,
       count(*) AS forecasts,
       avg(abs(p.value - p.actual)) AS mae,
       sqrt(avg((p.value - p.actual) ^ 2)) AS rmse,
       avg(abs(p.value - p.actual)) / nullif(avg(abs(p.seasonal_naive - p.actual)), 0) AS mase,
       avg(CASE WHEN p.lower IS NULL THEN NULL WHEN p.actual BETWEEN p.lower AND p.upper THEN 1.0 ELSE 0.0 END)
           AS coverage
FROM (
    SELECT m.name AS model, s.series, u.step, u.value, u.lower, u.upper, s.actual[u.step] AS actual,
           s.seasonal_naive[u.step] AS seasonal_naive
    FROM forecast.sets AS s
    JOIN forecast.models AS m ON m.id = s.model_id
    CROSS JOIN LATERAL forecast.unpack_steps(
        s.issued_at, s.step_interval, s.levels, s.value, s.lower, s.upper, s.quantiles, s.target_times) AS u
    WHERE s.scored AND s.actual[u.step] IS NOT NULL
    UNION ALL
    SELECT m.name, s.series, u.step, u.value, u.lower, u.upper, a.actual, a.seasonal_naive
    FROM forecast.sets AS s
    JOIN forecast.models AS m ON m.id = s.model_id
    CROSS JOIN LATERAL forecast.unpack_steps(
        s.issued_at, s.step_interval, s.levels, s.value, s.lower, s.upper, s.quantiles, s.target_times) AS u
    CROSS JOIN LATERAL (
        SELECT x.actual, x.seasonal_naive[(u.step + x.season - 1) / x.season] AS seasonal_naive
        FROM forecast.actuals AS x
        WHERE x.model_id = s.model_id AND x.series = s.series AND x.target_time = u.target_time
        LIMIT 1
    ) AS a
    WHERE NOT s.scored
) AS p
GROUP BY p.model, p.series, p.step;
COMMENT ON VIEW forecast.accuracy IS 'Live accuracy of matured forecasts per model, series and step.';

-- As in version 9; last_forecast comes from the newest sets.
CREATE VIEW forecast.model_status AS
SELECT m.name AS model,
       m.state,
       m.last_error,
       m.last_error_at,
       v.version AS active_version,
       v.kind AS active_kind,
       v.created_at AS active_since,
       v.val_loss AS active_val_loss,
       (SELECT max(l.issued_at) FROM forecast.latest_sets AS l WHERE l.model_id = m.id) AS last_forecast,
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

-- INSERT INTO forecast.predictions files each row into its set (replacing a step with the
-- same number; the set is scored again later), keeps latest_sets current and records a
-- given actual (its seasonal-naive value by step). For backfills and tests; forecastd
-- writes whole sets.
CREATE FUNCTION forecast.insert_prediction() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    mid integer;
    steps forecast.forecast_step[];
    naive double precision[];
    old_season integer;
BEGIN
    SELECT m.id INTO mid FROM forecast.models AS m WHERE m.name = NEW.model;
    IF mid IS NULL THEN
        RAISE EXCEPTION 'no model named %', coalesce(quote_literal(NEW.model), 'NULL')
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.series IS NULL OR NEW.issued_at IS NULL OR NEW.target_time IS NULL OR NEW.step IS NULL
        OR NEW.value IS NULL OR NEW.version IS NULL THEN
        RAISE EXCEPTION 'a forecast step needs series, issued_at, target_time, step, value and version'
            USING ERRCODE = 'not_null_violation';
    END IF;
    IF NEW.step < 1 THEN
        RAISE EXCEPTION 'step must be positive, not %', NEW.step USING ERRCODE = 'check_violation';
    END IF;
    PERFORM forecast.ensure_partition(NEW.issued_at);
    SELECT array_agg(ROW(p.step, p.target_time, p.value, p.lower, p.upper, p.quantiles)::forecast.forecast_step)
    INTO steps
    FROM forecast.predictions AS p
    WHERE p.model = NEW.model AND p.series = NEW.series AND p.issued_at = NEW.issued_at AND p.step <> NEW.step;
    steps := coalesce(steps, '{}')
        || ROW(NEW.step, NEW.target_time, NEW.value, NEW.lower, NEW.upper, NEW.quantiles)::forecast.forecast_step;

    INSERT INTO forecast.sets AS s
        (model_id, series, issued_at, step_interval, version, levels, value, lower, upper, quantiles, target_times)
    SELECT mid, NEW.series, NEW.issued_at, k.step_interval, NEW.version, k.levels, k.value, k.lower, k.upper,
           k.quantiles, k.target_times
    FROM forecast.pack_steps(NEW.issued_at, steps) AS k
    ON CONFLICT (model_id, series, issued_at) DO UPDATE
    SET step_interval = EXCLUDED.step_interval, version = EXCLUDED.version, levels = EXCLUDED.levels,
        value = EXCLUDED.value, lower = EXCLUDED.lower, upper = EXCLUDED.upper, quantiles = EXCLUDED.quantiles,
        target_times = EXCLUDED.target_times, scored = false, actual = NULL, seasonal_naive = NULL;

    INSERT INTO forecast.latest_sets AS l
        (model_id, series, issued_at, step_interval, version, levels, value, lower, upper, quantiles, target_times,
         actuals_through)
    SELECT s.model_id, s.series, s.issued_at, s.step_interval, s.version, s.levels, s.value, s.lower, s.upper,
           s.quantiles, s.target_times, s.issued_at
    FROM forecast.sets AS s
    WHERE s.model_id = mid AND s.series = NEW.series AND s.issued_at = NEW.issued_at
    ON CONFLICT (model_id, series) DO UPDATE
    SET issued_at = EXCLUDED.issued_at, step_interval = EXCLUDED.step_interval, version = EXCLUDED.version,
        levels = EXCLUDED.levels, value = EXCLUDED.value, lower = EXCLUDED.lower, upper = EXCLUDED.upper,
        quantiles = EXCLUDED.quantiles, target_times = EXCLUDED.target_times, written_at = EXCLUDED.written_at
    WHERE l.issued_at <= EXCLUDED.issued_at;

    IF NEW.actual IS NOT NULL THEN
        PERFORM forecast.ensure_partition(NEW.target_time);
        SELECT a.seasonal_naive, a.season INTO naive, old_season FROM forecast.actuals AS a
        WHERE a.model_id = mid AND a.series = NEW.series AND a.target_time = NEW.target_time;
        -- By step (season 1): spread values stored per season over the steps they cover.
        IF old_season > 1 THEN
            naive := ARRAY(SELECT naive[(i + old_season - 1) / old_season]
                           FROM generate_series(1, cardinality(naive) * old_season) AS i);
        END IF;
        IF NEW.seasonal_naive IS NOT NULL OR naive IS NOT NULL THEN
            naive := coalesce(naive, '{}');
            IF cardinality(naive) < NEW.step THEN
                naive := naive || array_fill(NULL::double precision, ARRAY[NEW.step - cardinality(naive)]);
            END IF;
            naive[NEW.step] := NEW.seasonal_naive;
        END IF;
        INSERT INTO forecast.actuals AS a (model_id, series, target_time, actual, season, seasonal_naive)
        VALUES (mid, NEW.series, NEW.target_time, NEW.actual, 1, naive)
        ON CONFLICT (model_id, series, target_time) DO UPDATE
        SET actual = EXCLUDED.actual, season = 1, seasonal_naive = EXCLUDED.seasonal_naive;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER insert_prediction INSTEAD OF INSERT ON forecast.predictions
FOR EACH ROW EXECUTE FUNCTION forecast.insert_prediction();

-- Databases set up with deploy/roles.sql by another role than the one migrating: the
-- daemon's role needs the new tables and the partition functions.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'forecast_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON forecast.sets, forecast.latest_sets, forecast.actuals,
            forecast.predictions, forecast.latest, forecast.accuracy, forecast.model_status, forecast.partitions
            TO forecast_writer;
        GRANT EXECUTE ON FUNCTION forecast.ensure_partition(timestamptz), forecast.ensure_partitions(timestamptz),
            forecast.drop_expired_partitions(interval), forecast.fold_actuals(integer),
            forecast.set_actuals(integer, text, timestamptz, interval, integer, timestamptz[]) TO forecast_writer;
    END IF;
END;
$$;
