import AxonCore
import Backend
import Testing

/// Shape-only introspection: every node's shape, inputs and parameters without a backend.
@Suite("Model introspection")
struct IntrospectionTests {
    @Test("layers list shapes, inputs and parameters in execution order without building")
    func layersWithoutBuilding() throws {
        let x = Axon.input("x", shape: [nil, 6, 6, 1])
        let model = x.conv(2, kernelSize: [3], name: "features").batchNorm().flatten().dense(3)
        let layers = try model.layers()
        #expect(layers.map(\.name) == ["x", "features", "batch_norm_0", "flatten_0", "dense_0"])
        #expect(layers.map(\.outputShape) == [[nil, 6, 6, 1], [nil, 4, 4, 2], [nil, 4, 4, 2], [nil, 32], [nil, 3]])
        #expect(layers[4].inputs == ["flatten_0"])
        #expect(layers[1].parameters.map(\.name) == ["features.kernel", "features.bias"])
        #expect(layers[1].parameters.map(\.shape) == [[3, 3, 1, 2], [2]])
        #expect(layers[1].parameters.allSatisfy { $0.trainable })
        #expect(layers[2].parameters.filter { !$0.trainable }.map(\.name) == ["batch_norm_0.mean", "batch_norm_0.var"])
        #expect(try model.inputs().map(\.name) == ["x"])
    }
}
