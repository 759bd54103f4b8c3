// Distributed training: data-parallel training on the processes mpirun started.
// Run with: mpirun -np 2 .build/release/DistributedTraining
import AxonCore
import AxonData
import CPUReference
import Distributed

// snippet.world
let world = try MPICommunicator.world()  // rank and world size, from the launcher
// snippet.end
ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")
let model = Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(64, activation: .relu).dense(10)

// snippet.train
let data = try Digits.generate(count: 2_048, seed: 1)
// Every rank cuts the same global batches (64 examples per rank) and takes its own part.
let batches = try data.batches(size: 64 * world.size, shuffle: true, seed: 1, on: backend)
    .shard(world.rank, of: world.size)
let loop = try Loop.trainer(
    model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
    optimizer: .adam(learningRate: 1e-3), on: backend,
    dataParallel: DataParallel(world, bucketBytes: 4 << 20)
)
.metric(.accuracy())
let final = try loop.run(batches, epochs: 2)
if world.rank == 0 {
    print(final.history.last ?? [:])  // the global batch's metrics, the same on every rank
}
// snippet.end

// snippet.hide
// Every rank ends with the same parameters: their bits, gathered from every rank, agree.
var bits: [UInt8] = []
for name in final.stepState.model.parameters.names {
    for value in try final.stepState.model.parameters.tensor(name).scalars {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bits += $0 }
    }
}
let gathered = try world.allGather(bits)
guard gathered.allSatisfy({ $0 == gathered[0] }), world.size >= 2, (final.history.last?["accuracy"] ?? 0) > 0.5 else {
    throw SnippetCheck("ranks disagree, or training on \(world.size) processes did not learn: \(final.history)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
