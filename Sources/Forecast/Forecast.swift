/// The forecastd LSTM engine.
public enum ForecastEngine {}
