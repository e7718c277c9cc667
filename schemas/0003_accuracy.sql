-- forecastd schema, version 3: how good forecasts were. Backtests (forecastd backtest) and
-- the live accuracy of issued forecasts, scored by the daemon as actuals arrive.

-- One row per backtest run, with its summary (the JSON `forecastd backtest --json` prints).
CREATE TABLE forecast.backtests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model          text NOT NULL REFERENCES forecast.models (name) ON DELETE CASCADE ON UPDATE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    valid_from     timestamptz NOT NULL,
    test_from      timestamptz NOT NULL,
    test_until     timestamptz NOT NULL,
    stride         integer NOT NULL CHECK (stride > 0),
    finetune_every integer CHECK (finetune_every > 0),
    summary        jsonb NOT NULL
);

-- Per backtest, series and forecast origin: the errors of that forecast (original units).
CREATE TABLE forecast.backtest_origins (
    backtest           bigint NOT NULL REFERENCES forecast.backtests (id) ON DELETE CASCADE,
    series             text NOT NULL,
    issued_at          timestamptz NOT NULL,
    mse                double precision NOT NULL,
    mae                double precision NOT NULL,
    coverage           double precision,
    naive_mse          double precision NOT NULL,
    seasonal_naive_mse double precision NOT NULL,
    PRIMARY KEY (backtest, series, issued_at)
);

-- Live scoring: the actual value once it arrived, and what the seasonal-naive forecast
-- (the value one season before, from the same origin) would have said.
ALTER TABLE forecast.predictions
    ADD COLUMN actual double precision,
    ADD COLUMN seasonal_naive double precision;
CREATE INDEX predictions_unscored ON forecast.predictions (model, target_time) WHERE actual IS NULL;

-- How good issued forecasts really were, per model, series and horizon step: MAE, RMSE,
-- MASE against the seasonal-naive forecast, share of actuals inside [lower, upper], and
-- the number of forecasts scored.
CREATE VIEW forecast.accuracy AS
SELECT p.model, p.series, p.step,
       count(*) AS forecasts,
       avg(abs(p.value - p.actual)) AS mae,
       sqrt(avg((p.value - p.actual) ^ 2)) AS rmse,
       avg(abs(p.value - p.actual)) / nullif(avg(abs(p.seasonal_naive - p.actual)), 0) AS mase,
       avg(CASE WHEN p.lower IS NULL THEN NULL WHEN p.actual BETWEEN p.lower AND p.upper THEN 1.0 ELSE 0.0 END)
           AS coverage
FROM forecast.predictions AS p
WHERE p.actual IS NOT NULL
GROUP BY p.model, p.series, p.step;
COMMENT ON VIEW forecast.accuracy IS 'Live accuracy of matured forecasts per model, series and step.';
