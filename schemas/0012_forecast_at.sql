-- forecastd schema, version 12: "what did we forecast for 14:00, as of this morning".
--
-- forecast.forecast_at(model, series, target_time, as_of) returns the step of the forecast
-- that was the newest for `target_time` at `as_of`: among the sets of that model and series
-- issued at or before `as_of` (issued_at is the time of the last reading the forecast used,
-- the data's time, as everywhere in forecast.*) and before `target_time`, the newest one
-- with a step at `target_time`. Only sets issued within one horizon of the model (its
-- current horizon x frequency) before the target are looked at, through the primary key:
-- the cost is a few sets whatever the history. No row when nothing covered that time then.
-- `actual` is the reading that came for `target_time` once the daemon recorded it.
CREATE FUNCTION forecast.forecast_at(
    model text, series text, target_time timestamptz, as_of timestamptz DEFAULT now())
RETURNS TABLE (
    value double precision, lower double precision, upper double precision, quantiles double precision[],
    step integer, version integer, issued_at timestamptz, actual double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT u.value, u.lower, u.upper, u.quantiles, u.step, s.version, s.issued_at,
       coalesce(s.actual[u.step],
                (SELECT a.actual FROM forecast.actuals AS a
                 WHERE a.model_id = s.model_id AND a.series = s.series AND a.target_time = u.target_time))
FROM forecast.models AS m
JOIN forecast.sets AS s ON s.model_id = m.id
CROSS JOIN LATERAL forecast.unpack_steps(
    s.issued_at, s.step_interval, s.levels, s.value, s.lower, s.upper, s.quantiles, s.target_times) AS u
WHERE m.name = forecast_at.model
  AND s.series = forecast_at.series
  AND s.issued_at <= forecast_at.as_of
  AND s.issued_at < forecast_at.target_time
  AND s.issued_at >= forecast_at.target_time - m.horizon * m.frequency
  AND u.target_time = forecast_at.target_time
ORDER BY s.issued_at DESC
LIMIT 1
$$;
COMMENT ON FUNCTION forecast.forecast_at(text, text, timestamptz, timestamptz) IS
    'The forecast for target_time that was the newest at as_of (issued at or before it): value, bounds, quantiles, step, version, issued_at, and the actual once recorded.';
