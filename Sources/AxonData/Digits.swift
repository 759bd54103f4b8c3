import Backend
import AxonCore
import Foundation

/// A procedurally generated digits dataset that needs no download: 28×28 grey images of the
/// ten digits, drawn from stroke templates with a random affine jitter (rotation, scale,
/// shear, shift), stroke thickness and pixel noise, all from Philox bits of a seed, so the
/// same seed gives the same images everywhere.
public enum Digits {
    typealias Point = (x: Double, y: Double)

    /// Each digit as polylines in the unit square (y grows downward).
    static let templates: [[[Point]]] = [
        [ellipse(center: (0.5, 0.5), radii: (0.22, 0.34))],
        [[(0.36, 0.28), (0.52, 0.14), (0.52, 0.86)]],
        [[(0.26, 0.3), (0.36, 0.17), (0.55, 0.13), (0.72, 0.25), (0.7, 0.42), (0.26, 0.85), (0.76, 0.85)]],
        [[(0.28, 0.2), (0.5, 0.12), (0.7, 0.22), (0.68, 0.4), (0.48, 0.48), (0.7, 0.56), (0.72, 0.75), (0.5, 0.87), (0.27, 0.8)]],
        [[(0.62, 0.86), (0.62, 0.14), (0.24, 0.62), (0.8, 0.62)]],
        [[(0.72, 0.15), (0.33, 0.15), (0.3, 0.45), (0.55, 0.41), (0.72, 0.54), (0.7, 0.75), (0.5, 0.87), (0.28, 0.8)]],
        [[(0.66, 0.14), (0.42, 0.33), (0.3, 0.6), (0.35, 0.8), (0.5, 0.87), (0.67, 0.78), (0.68, 0.6), (0.5, 0.5), (0.32, 0.6)]],
        [[(0.24, 0.15), (0.76, 0.15), (0.44, 0.86)]],
        [ellipse(center: (0.5, 0.31), radii: (0.16, 0.17)), ellipse(center: (0.5, 0.67), radii: (0.2, 0.2))],
        [[(0.67, 0.42), (0.5, 0.5), (0.33, 0.4), (0.35, 0.2), (0.52, 0.12), (0.68, 0.22), (0.67, 0.42), (0.6, 0.86)]],
    ]

    static func ellipse(center: Point, radii: Point) -> [Point] {
        (0...16).map { step in
            let angle = Double(step) / 16 * 2 * .pi
            return (center.x + radii.x * cos(angle), center.y + radii.y * sin(angle))
        }
    }

    /// The most images one call generates (3 GB of pixels).
    public static let maximumCount = 1_000_000

    /// `count` images `[count, 28, 28, 1]` in [0, 1] with `int32` labels cycling through 0–9
    /// in a shuffled order.
    public static func generate(count: Int, seed: UInt64) throws -> Dataset {
        guard (0...maximumCount).contains(count) else {
            throw AxonError.invalidValue(operation: "Digits.generate", reason: "count must be from 0 to \(maximumCount), got \(count)")
        }
        let size = 28
        var pixels = [Float](repeating: 0, count: count * size * size)
        var labels = [Int32](repeating: 0, count: count)
        let key = Philox.Key(seed: seed)
        for index in 0..<count {
            let bits = Philox.bits(key: key.folded(with: UInt64(index)), offset: 0, count: 8 + size * size)
            let uniform = { (i: Int) in Double(bits[i]) * 0x1p-32 }
            let label = Int(bits[0] % 10)
            labels[index] = Int32(label)
            // Affine jitter around the centre: rotation ±15°, scale 0.8–1.1, shear ±0.2, shift ±2 px.
            let angle = (uniform(1) - 0.5) * Double.pi / 6
            let scale = 0.8 + 0.3 * uniform(2)
            let shear = (uniform(3) - 0.5) * 0.4
            let shift = ((uniform(4) - 0.5) * 4, (uniform(5) - 0.5) * 4)
            let thickness = 1.4 + 1.4 * uniform(6)
            let noise = 0.05 + 0.1 * uniform(7)
            let transform = { (p: Point) -> Point in
                let (x, y) = ((p.x - 0.5) * 20, (p.y - 0.5) * 20)
                let sheared = x + shear * y
                let rx = cos(angle) * sheared - sin(angle) * y, ry = sin(angle) * sheared + cos(angle) * y
                return (13.5 + scale * rx + shift.0, 13.5 + scale * ry + shift.1)
            }
            let segments = templates[label].flatMap { line in
                zip(line, line.dropFirst()).map { (transform($0), transform($1)) }
            }
            for row in 0..<size {
                for column in 0..<size {
                    let point = (x: Double(column), y: Double(row))
                    var distance = Double.infinity
                    for (a, b) in segments { distance = Swift.min(distance, distanceToSegment(point, a, b)) }
                    let ink = Swift.min(Swift.max(thickness / 2 + 0.5 - distance, 0), 1)
                    let grain = (uniform(8 + row * size + column) - 0.5) * 2 * noise
                    pixels[(index * size + row) * size + column] = Float(Swift.min(Swift.max(ink + grain, 0), 1))
                }
            }
        }
        return try Dataset(
            features: HostArray(shape: [count, size, size, 1], elements: .float32(pixels)),
            labels: HostArray(shape: [count], elements: .int32(labels)))
    }

    static func distanceToSegment(_ p: Point, _ a: Point, _ b: Point) -> Double {
        let (dx, dy) = (b.x - a.x, b.y - a.y)
        let length = dx * dx + dy * dy
        let t = length > 0 ? Swift.min(Swift.max(((p.x - a.x) * dx + (p.y - a.y) * dy) / length, 0), 1) : 0
        let (cx, cy) = (a.x + t * dx - p.x, a.y + t * dy - p.y)
        return (cx * cx + cy * cy).squareRoot()
    }
}
