-- forecastd schema, version 13: live accuracy that costs the same whatever the history.
--
-- forecast.accuracy reads every matured step kept (at 1,000 series and 100 hourly cycles
-- about 4 s; at 10,000 series and months kept, minutes), too slow for the status page and
-- the metrics, which ask every few seconds. forecast.accuracy_days keeps, per model and UTC
-- day of issue, the sums those need, added once per set when it is scored (all its targets
-- came: forecast.fold_actuals), so the recent accuracy of a model is a handful of rows.
CREATE TABLE forecast.accuracy_days (
    model_id        integer NOT NULL REFERENCES forecast.models (id) ON DELETE CASCADE,
    day             date NOT NULL,
    -- Matured steps with an actual, and the sum of their absolute errors.
    forecasts       bigint NOT NULL DEFAULT 0,
    abs_error       double precision NOT NULL DEFAULT 0,
    -- Of those, the steps with a seasonal-naive value: their absolute errors and the naive's.
    naive_forecasts bigint NOT NULL DEFAULT 0,
    model_abs_error double precision NOT NULL DEFAULT 0,
    naive_abs_error double precision NOT NULL DEFAULT 0,
    -- Of those with an interval, how many actuals fell inside it.
    with_interval   bigint NOT NULL DEFAULT 0,
    covered         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, day)
);
COMMENT ON TABLE forecast.accuracy_days IS 'Per model and UTC day of issue: sums of the scored steps'' errors (forecast.fold_actuals adds each set once), for recent live accuracy at any history size.';

-- The sums of scored sets `sets` (rows of forecast.sets), per model and day, added in.
CREATE FUNCTION forecast.add_accuracy(sets forecast.sets[]) RETURNS void
LANGUAGE sql AS $$
INSERT INTO forecast.accuracy_days AS d
    (model_id, day, forecasts, abs_error, naive_forecasts, model_abs_error, naive_abs_error, with_interval, covered)
SELECT s.model_id, (s.issued_at AT TIME ZONE 'UTC')::date,
       count(*), sum(abs(u.value - s.actual[u.step])),
       count(s.seasonal_naive[u.step]),
       coalesce(sum(abs(u.value - s.actual[u.step])) FILTER (WHERE s.seasonal_naive[u.step] IS NOT NULL), 0),
       coalesce(sum(abs(s.seasonal_naive[u.step] - s.actual[u.step])), 0),
       count(*) FILTER (WHERE u.lower IS NOT NULL AND u.upper IS NOT NULL),
       count(*) FILTER (WHERE s.actual[u.step] BETWEEN u.lower AND u.upper)
FROM unnest(add_accuracy.sets) AS s
CROSS JOIN LATERAL forecast.unpack_steps(
    s.issued_at, s.step_interval, s.levels, s.value, s.lower, s.upper, s.quantiles, s.target_times) AS u
WHERE s.actual[u.step] IS NOT NULL
GROUP BY 1, 2
ON CONFLICT (model_id, day) DO UPDATE
SET forecasts = d.forecasts + EXCLUDED.forecasts, abs_error = d.abs_error + EXCLUDED.abs_error,
    naive_forecasts = d.naive_forecasts + EXCLUDED.naive_forecasts,
    model_abs_error = d.model_abs_error + EXCLUDED.model_abs_error,
    naive_abs_error = d.naive_abs_error + EXCLUDED.naive_abs_error,
    with_interval = d.with_interval + EXCLUDED.with_interval, covered = d.covered + EXCLUDED.covered
$$;

-- As in version 11, and the sets it scores are added to forecast.accuracy_days.
CREATE OR REPLACE FUNCTION forecast.fold_actuals(model_id integer) RETURNS integer
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
    RETURNING s.*
), added AS (
    SELECT forecast.add_accuracy(array_agg(folded::forecast.sets)) FROM folded HAVING count(*) > 0
)
SELECT (SELECT count(*)::integer FROM folded) + (SELECT count(*)::integer * 0 FROM added)
$$;

-- Sets scored before this version, a day of issue at a time (bounded memory).
DO $$
DECLARE
    day date;
BEGIN
    FOR day IN SELECT DISTINCT (s.issued_at AT TIME ZONE 'UTC')::date FROM forecast.sets AS s WHERE s.scored ORDER BY 1
    LOOP
        PERFORM forecast.add_accuracy(ARRAY(
            SELECT s FROM forecast.sets AS s
            WHERE s.scored AND s.issued_at >= day::timestamp AT TIME ZONE 'UTC'
              AND s.issued_at < (day + 1)::timestamp AT TIME ZONE 'UTC'));
    END LOOP;
END;
$$;

-- The recent live accuracy of every model: the sums of its sets issued in the 7 UTC days up
-- to its newest forecast's (data time, as issued_at). MAE over the matured steps, MASE as
-- the ratio of the model's and the seasonal-naive absolute errors over the steps that have a
-- naive value, coverage as the share of actuals inside the interval.
CREATE VIEW forecast.recent_accuracy AS
SELECT m.name AS model, sum(d.forecasts)::bigint AS forecasts,
       sum(d.abs_error) / nullif(sum(d.forecasts), 0) AS mae,
       sum(d.model_abs_error) / nullif(sum(d.naive_abs_error), 0) AS mase,
       sum(d.covered)::float8 / nullif(sum(d.with_interval), 0) AS coverage
FROM forecast.models AS m
JOIN forecast.accuracy_days AS d ON d.model_id = m.id
WHERE d.day > (SELECT max(x.day) FROM forecast.accuracy_days AS x WHERE x.model_id = m.id) - 7
GROUP BY m.name;
COMMENT ON VIEW forecast.recent_accuracy IS 'Per model, live accuracy of the sets issued in the 7 days up to its newest scored set (forecast.accuracy_days).';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'forecast_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON forecast.accuracy_days, forecast.recent_accuracy TO forecast_writer;
        GRANT EXECUTE ON FUNCTION forecast.add_accuracy(forecast.sets[]) TO forecast_writer;
    END IF;
END;
$$;
