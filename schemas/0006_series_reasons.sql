-- forecastd schema, version 6: every series has a fresh forecast or a stated reason.

-- Why a series has no fresh forecast (NULL when its newest forecast is fresh): a newest
-- stretch too short for the lookback even with short gaps bridged, a non-finite network
-- output, ... `bridged` counts the steps interpolated in its newest forecast's window when
-- a gap longer than the training limit was bridged to forecast it.
ALTER TABLE forecast.series_state
    ADD COLUMN reason text,
    ADD COLUMN bridged integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN forecast.series_state.reason IS 'Why the series has no fresh forecast; NULL when it has one.';

-- The newest forecast set of every model and series, with whether it is stale: the series
-- has readings newer than the set (or a reason it could not be forecast).
CREATE OR REPLACE VIEW forecast.latest AS
SELECT p.model, p.series, p.issued_at, p.target_time, p.step, p.value, p.lower, p.upper,
       p.quantiles, p.version,
       coalesce(ss.watermark > p.issued_at OR ss.reason IS NOT NULL, false) AS stale
FROM forecast.predictions AS p
LEFT JOIN forecast.series_state AS ss ON ss.model = p.model AND ss.series = p.series
WHERE p.issued_at = (
    SELECT max(q.issued_at) FROM forecast.predictions AS q
    WHERE q.model = p.model AND q.series = p.series
);
