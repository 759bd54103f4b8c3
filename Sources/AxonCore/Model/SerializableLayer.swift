import Backend

/// A layer whose options encode and decode, so that a model holding it can be saved whole
/// (``ModelFile``) and its options read by exporters (``LayerDescription/configuration``).
/// Every built-in layer without a Swift closure among its options is one.
protocol SerializableLayer: Layer, Codable {}

extension SerializableLayer {
    /// The name a saved model records for the layer's type.
    static var serializationTag: String { String(describing: Self.self) }
}

/// The built-in serializable layer types, by ``SerializableLayer/serializationTag``.
enum SerializableLayers {
    static let types: [String: any SerializableLayer.Type] = Dictionary(uniqueKeysWithValues: ([
        InputLayer.self, ContainerLayer.self, OptionalLayer.self, StackColumnsLayer.self, DenseLayer.self, ActivationLayer.self, DropoutLayer.self, EmbeddingLayer.self,
        ConvLayer.self, PoolLayer.self, GlobalPoolLayer.self, AdaptivePoolLayer.self, ConvTransposeLayer.self,
        DepthwiseConvLayer.self, SeparableConvLayer.self, ResizeLayer.self, ReshapeLayer.self, FlattenLayer.self,
        TransposeLayer.self, PadLayer.self, TakeLayer.self, MergeLayer.self, ConcatenateLayer.self, SplitLayer.self, ConstantLayer.self,
        BiasLayer.self, BilinearLayer.self, StructuredDropoutLayer.self, BatchNormLayer.self, LayerNormLayer.self,
        GroupNormLayer.self, DotProductAttentionLayer.self, HeadsAttentionLayer.self, AdditiveAttentionLayer.self,
        RecurrentLayer.self, SequenceLengthsLayer.self, RecurrentPartLayer.self,
    ] as [any SerializableLayer.Type]).map { ($0.serializationTag, $0) })
}
