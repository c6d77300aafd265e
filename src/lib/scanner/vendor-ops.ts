/**
 * Operators that ship with the mainstream runtimes although they are not part of the base operator set:
 * ONNX Runtime's contrib domains and onnxruntime-extensions, TFLite's built-in resolver custom ops and
 * MediaPipe's custom ops. A node using one of these needs no custom native library from the model's
 * author, so it is "known", not "unknown". Only the listed names count: any other operator name in the
 * same vendor domain still needs a library the model brings along and stays flagged.
 *
 * Deliberately left out (they load or run something outside the graph): ORT's EPContext (a precompiled
 * execution-provider binary named or embedded in the node) and Snpe (an embedded SNPE container), ORT
 * training's PythonOp, onnxruntime-extensions' PyOp and other Python-defined ops, ImageReader (reads files
 * by path) and the Azure/OpenAI invoker ops (network calls).
 *
 * Sources (names only): onnxruntime docs/ContribOperators.md and contrib_ops/*_defs.cc, the NCHWc and
 * NHWC transformer op lists; onnxruntime-extensions operators/*; TensorFlow Lite kernels/register.cc;
 * MediaPipe util/tflite/cpu_op_resolver.cc and tasks/cc/core/mediapipe_builtin_op_resolver.cc.
 */

const words = (s: string): Set<string> => new Set(s.trim().split(/\s+/))

/** ONNX Runtime contrib operators (domain com.microsoft). */
const COM_MICROSOFT = words(`
  Attention AttnLSTM BeamSearch BiasAdd BiasDropout BiasGelu BiasSoftmax BiasSplitGelu BifurcationDetector
  BitmaskBiasDropout BitmaskDropout CDist CausalConvWithState ComplexMul ComplexMulConj ConvTransposeWithDynamicPads
  CropAndResize DecoderAttention DecoderMaskedMultiHeadAttention DecoderMaskedSelfAttention DequantizeBFP
  DequantizeLinear DequantizeWithOrder DynamicQuantizeLSTM DynamicQuantizeMatMul DynamicTimeWarping
  EmbedLayerNormalization EngramGate ExpandDims FastGelu FusedConv FusedGemm FusedMatMul FusedMatMulActivation GatedAdd
  GatedDeltaNet GatedRMSNorm GatedRelativePositionBias GatherBlockQuantized GatherND Gelu GemmFastGelu GemmFloat8
  GemmaRotaryEmbedding GreedySearch GridSample GroupNorm GroupQueryAttention Inverse Irfft IsAllFinite
  LinearAttention LinearAttentionGate LongformerAttention MRotaryEmbedding MatMulBlockQuantizedFp4Weight
  MatMulBlockQuantizedFp8Weight MatMulBnb4 MatMulFpQ4 MatMulInteger16 MatMulIntegerToFloat MatMulNBits MatMulNBitsMlp
  MatMulNBitsQkv MaxpoolWithMask MoE MulInteger MultiHeadAttention MurmurHash3 NGramHashMapping NGramRepeatBlock
  NhwcConv NhwcFusedConv NhwcMaxPool PackedAttention PackedMultiHeadAttention Pad PagedAttention QAttention
  QEmbedLayerNormalization QGemm QLinearAdd QLinearAveragePool QLinearConcat QLinearConv QLinearGlobalAveragePool
  QLinearLeakyRelu QLinearMul QLinearReduceMean QLinearSigmoid QLinearSoftmax QLinearWhere QMoE QOrderedAttention
  QOrderedGelu QOrderedLayerNormalization QOrderedLongformerAttention QOrderedMatMul QuantizeBFP QuantizeLinear
  QuantizeWithOrder QuickGelu Range ReduceSumInteger RelativePositionBias RemovePadding RestorePadding Rfft
  RotaryEmbedding SampleOp Sampling SkipGroupNorm SkipLayerNormalization SkipSimplifiedLayerNormalization
  SparseAttention SparseToDenseMatMul Tokenizer TorchEmbedding TransposeMatMul Trilu UnfoldTensor Unique
  VarlenCausalConvWithState VarlenNGramHashMapping WhisperBeamSearch WordConvEmbedding
`)

/** ORT's NCHWc layout transformer (domain com.microsoft.nchwc). */
const COM_MICROSOFT_NCHWC = words('Conv MaxPool AveragePool GlobalMaxPool GlobalAveragePool ReorderInput ReorderOutput Upsample')

/** ORT's internal NHWC layout (domain com.ms.internal.nhwc): NHWC copies of ONNX operators. */
const COM_MS_INTERNAL_NHWC = words(`
  Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool QLinearConv QLinearAveragePool
  QLinearGlobalAveragePool QLinearConvTranspose Resize BatchNormalization DepthToSpace SpaceToDepth GridSample LRN
  InstanceNormalization GroupNorm LpPool LpNormalization NhwcMaxPool
`)

/** onnxruntime-extensions (domain ai.onnx.contrib), without its file-reading, network and Python ops. */
const AI_ONNX_CONTRIB = words(`
  StringRegexReplace StringRegexSplitWithOffsets StringECMARegexReplace StringECMARegexSplitWithOffsets
  RaggedTensorToSparse RaggedTensorToDense StringRaggedTensorToDense StringEqual StringToHashBucket
  StringToHashBucketFast StringJoin StringLower StringUpper MaskedFill StringSplit StringStrip StringLength
  StringConcat StringMapping StringToVector VectorToString GPT2Tokenizer CLIPTokenizer RobertaTokenizer BpeDecoder
  SpmTokenizer HfJsonTokenizer SentencepieceTokenizer SentencepieceDecoder TrieTokenizer TrieDetokenizer
  WordpieceTokenizer BasicTokenizer BertTokenizer BertTokenizerDecoder HfBertTokenizer BlingFireSentenceBreaker
  Inverse NegPos SegmentExtraction SegmentSum StftNorm DecodeImage EncodeImage DrawBoundingBoxes AudioDecoder
  GaussianBlur ImageDecoder
`)

/** PyTorch's ATen fallback (domain org.pytorch.aten): one operator that names an ATen kernel, not code. */
const ORG_PYTORCH_ATEN = words('ATen')

export const ONNX_VENDOR_OPS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['com.microsoft', COM_MICROSOFT],
  ['com.microsoft.nchwc', COM_MICROSOFT_NCHWC],
  ['com.ms.internal.nhwc', COM_MS_INTERNAL_NHWC],
  ['ai.onnx.contrib', AI_ONNX_CONTRIB],
  ['org.pytorch.aten', ORG_PYTORCH_ATEN],
])

/** Domains of the ONNX standard itself: any operator name there is resolved by the runtime's own kernels. */
export const ONNX_STANDARD_DOMAINS: ReadonlySet<string> = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'ai.onnx.training',
  'ai.onnx.preview.training', 'ai.onnx.preview'])

/** 'standard', 'vendor' (a known operator of a known vendor domain) or 'custom' (needs the model's own library). */
export function onnxOpKind(domain: string, op: string): 'standard' | 'vendor' | 'custom' {
  if (ONNX_STANDARD_DOMAINS.has(domain)) return 'standard'
  return ONNX_VENDOR_OPS.get(domain)?.has(op) ? 'vendor' : 'custom'
}

/**
 * TFLite custom operators registered by the stock TFLite BuiltinOpResolver and by MediaPipe's op
 * resolvers (the models MediaPipe ships use them).
 */
export const TFLITE_KNOWN_CUSTOM_OPS: ReadonlySet<string> = words(`
  TFLite_Detection_PostProcess Mfcc AudioSpectrogram NumericVerify
  MaxPoolingWithArgmax2D MaxUnpooling2D Convolution2DTransposeBias TransformTensorBilinear TransformLandmarks
  Landmarks2TransformMatrix Resampler NGramHash KmeansEmbeddingLookup
`)

/** Why some operators that ship with a runtime are still reported (by operator name). */
export const ONNX_OP_NOTES: ReadonlyMap<string, string> = new Map([
  ['PyOp', 'PyOp runs Python code'],
  ['PythonOp', 'PythonOp runs Python autograd functions'],
  ['PythonOpGrad', 'PythonOpGrad runs Python autograd functions'],
  ['EPContext', 'EPContext loads a precompiled execution-provider binary, embedded or by path'],
  ['Snpe', 'Snpe runs an embedded SNPE container'],
  ['ImageReader', 'ImageReader reads files by path'],
  ['AzureAudioToText', 'it calls a network service'],
  ['AzureTextToText', 'it calls a network service'],
  ['AzureTritonInvoker', 'it calls a network service'],
  ['OpenAIAudioToText', 'it calls a network service'],
])
