import Testing

@testable import Forecast

@Suite struct CheckpointTests {
    func sample() throws -> Checkpoint {
        let configuration = ModelConfiguration(
            inputSize: 2, covariates: 3, hidden: 5, layers: 2, lookback: 7, horizon: 3, quantiles: [0.1, 0.5, 0.9],
            dropout: 0.25, linearSkip: true)
        var model = try StackedLSTM(configuration: configuration, seed: 77)
        // Awkward values survive bit for bit.
        model.parameters[0] = -0.0
        model.parameters[1] = .leastNonzeroMagnitude
        model.parameters[2] = .greatestFiniteMagnitude
        return Checkpoint(
            model: model,
            metadata: Array("series=42".utf8))
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func roundTripIsBitExact() throws {
        let checkpoint = try sample()
        let bytes = checkpoint.serialized()
        let loaded = try Checkpoint(bytes: bytes)
        #expect(loaded.model.configuration == checkpoint.model.configuration)
        #expect(loaded.model.parameters.map(\.bitPattern) == checkpoint.model.parameters.map(\.bitPattern))
        #expect(loaded.metadata == checkpoint.metadata)
        #expect(loaded.serialized() == bytes)
        #expect(Array(bytes.prefix(8)) == Array("FCSTLSTM".utf8))
    }

    @Test func truncatedBytesAreRejected() throws {
        let bytes = try sample().serialized()
        for length in [0, 3, 8, 11, 12, 40, bytes.count / 2, bytes.count - 5, bytes.count - 1] {
            #expect(throws: CheckpointError.truncated) { try Checkpoint(bytes: Array(bytes.prefix(length))) }
        }
    }

    @Test func everyFlippedBitIsRejected() throws {
        let bytes = try sample().serialized()
        // Every bit of the first 128 bytes (header), then a stride through the tensors and CRC.
        let positions = Array(0..<min(128, bytes.count)) + Array(stride(from: 128, to: bytes.count, by: 13))
        for position in positions {
            for bit in 0..<8 {
                var corrupted = bytes
                corrupted[position] ^= 1 << bit
                #expect(throws: CheckpointError.self) { try Checkpoint(bytes: corrupted) }
            }
        }
        var flipped = bytes
        flipped[bytes.count - 20] ^= 0x10
        #expect(throws: CheckpointError.checksumMismatch) { try Checkpoint(bytes: flipped) }
    }

    @Test func foreignBytesAreRejected() throws {
        #expect(throws: CheckpointError.notACheckpoint) { try Checkpoint(bytes: Array("PK\u{3}\u{4}hello world".utf8)) }
        #expect(throws: CheckpointError.notACheckpoint) { try Checkpoint(bytes: [0x89, 0x50, 0x4E, 0x47]) }
        var future = try sample().serialized()
        future[8] = 2
        #expect(throws: CheckpointError.unsupportedVersion(2)) { try Checkpoint(bytes: future) }
    }

    @Test func trainedModelPredictsTheSameAfterLoading() throws {
        let checkpoint = try sample()
        var generator = RandomGenerator(seed: 3)
        let inputs = (0..<(4 * 7 * 5)).map { _ in generator.nextGaussian() }
        let loaded = try Checkpoint(bytes: checkpoint.serialized())
        #expect(loaded.model.predict(inputs, count: 4) == checkpoint.model.predict(inputs, count: 4))
    }
}
