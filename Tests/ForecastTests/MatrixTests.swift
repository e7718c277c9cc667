import Testing

@testable import Forecast

@Suite struct MatrixTests {
    func random(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix {
        var generator = RandomGenerator(seed: seed)
        return Matrix(
            rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in generator.nextGaussian() })
    }

    func naive(_ a: Matrix, _ b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows {
            for j in 0..<b.columns {
                var sum = 0.0
                for k in 0..<a.columns { sum += Double(a[i, k]) * Double(b[k, j]) }
                c[i, j] = Float(sum)
            }
        }
        return c
    }

    @Test func productsMatchTheNaiveDefinition() {
        let a = random(5, 7, seed: 1)
        let b = random(7, 3, seed: 2)
        let expected = naive(a, b)
        let products = [
            a * b,
            a.transposed.multiplied(by: b, transposingSelf: true),
            a.multiplied(by: b.transposed, transposingOther: true),
            a.transposed.multiplied(by: b.transposed, transposingSelf: true, transposingOther: true),
        ]
        for product in products {
            #expect(product.rows == 5 && product.columns == 3)
            #expect(zip(product.storage, expected.storage).allSatisfy { abs($0 - $1) <= 1e-5 })
        }
    }

    @Test func emptyInnerDimensionGivesZeros() {
        let product = Matrix(rows: 2, columns: 0) * Matrix(rows: 0, columns: 3)
        #expect(product == Matrix(rows: 2, columns: 3))
    }
}
