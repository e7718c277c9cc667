import Foundation
import Testing

@testable import Forecast

/// One case of `../shared/fixtures/lstm_reference.json` (PyTorch, float64).
struct ReferenceCase {
    let name: String
    let configuration: ModelConfiguration
    let batch: Int
    let loss: Loss
    let parameters: [Double]
    let inputs: [Double]
    let targets: [Double]
    /// [B, T, H]
    let topLayerOutputs: [Double]
    /// [L, B, H]
    let hN: [Double]
    /// [L, B, H]
    let cN: [Double]
    /// [B, outputs]
    let prediction: [Double]
    let lossValue: Double
    let gradients: [Double]
    let adamLearningRate: Float
    let adamOptions: AdamOptimizer.Options
    let weightsAfterAdam: [Double]

    /// The fixture file, found from this source file: `<package>/../shared/fixtures/...`.
    static var fixtureURL: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/fixtures/lstm_reference.json").standardizedFileURL
    }

    static func loadAll() throws -> [ReferenceCase] {
        let data = try Data(contentsOf: fixtureURL)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        return try cases.map(ReferenceCase.init(json:))
    }

    init(json: [String: Any]) throws {
        name = json["name"] as! String
        let config = json["config"] as! [String: Any]
        let quantiles = (config["quantiles"] as? [Double])?.map(Float.init) ?? []
        configuration = ModelConfiguration(
            inputSize: config["input_size"] as! Int, hidden: config["hidden_size"] as! Int,
            layers: config["num_layers"] as! Int, lookback: config["seq_len"] as! Int,
            horizon: config["horizon"] as! Int, quantiles: quantiles, quantileOrdering: .unconstrained)
        batch = config["batch"] as! Int
        loss = (config["loss"] as! String) == "pinball" ? .pinball : .mse
        let layers = configuration.layers
        func flatten(_ value: Any?) -> [Double] {
            if let number = value as? Double { return [number] }
            if let number = value as? Int { return [Double(number)] }
            return (value as! [Any]).flatMap { flatten($0) }
        }
        func parameterVector(_ tensors: [String: Any]) -> [Double] {
            var result: [Double] = []
            for l in 0..<layers {
                let layer = tensors["layer\(l)"] as! [String: Any]
                for key in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] { result += flatten(layer[key]) }
            }
            let head = tensors["head"] as! [String: Any]
            return result + flatten(head["weight"]) + flatten(head["bias"])
        }
        parameters = parameterVector(json["weights"] as! [String: Any])
        inputs = flatten(json["input"])
        targets = flatten(json["target"])
        topLayerOutputs = flatten(json["top_layer_outputs"])
        hN = flatten(json["h_n"])
        cN = flatten(json["c_n"])
        prediction = flatten(json["prediction"])
        lossValue = json["loss"] as! Double
        gradients = parameterVector(json["grads"] as! [String: Any])
        let adam = json["adam"] as! [String: Any]
        let betas = flatten(adam["betas"])
        adamLearningRate = Float(adam["lr"] as! Double)
        adamOptions = AdamOptimizer.Options(
            beta1: Float(betas[0]), beta2: Float(betas[1]), epsilon: Float(adam["eps"] as! Double),
            weightDecay: Float(adam["weight_decay"] as! Double))
        weightsAfterAdam = parameterVector(adam["weights_after_one_step"] as! [String: Any])
    }
}

/// Largest error of `actual` against `reference`, relative to `max(|reference|, floor)`:
/// relative error where the reference is at least `floor` in magnitude, absolute error scaled
/// by `1 / floor` below it.
func maxScaledError(_ actual: [Float], _ reference: [Double], floor: Double) -> Double {
    precondition(actual.count == reference.count, "count \(actual.count) vs \(reference.count)")
    var worst = 0.0
    for (a, r) in zip(actual, reference) {
        worst = max(worst, abs(Double(a) - r) / max(abs(r), floor))
    }
    return worst
}
