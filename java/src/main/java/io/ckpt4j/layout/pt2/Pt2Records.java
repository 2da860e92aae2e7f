package io.ckpt4j.layout.pt2;

/**
 * The record names of a PT2 archive, relative to its top-level folder, as torch 2.13 defines them
 * ({@code torch/csrc/export/pt2_archive_constants.h}, mirrored by
 * {@code torch.export.pt2_archive.constants}).
 */
public final class Pt2Records {
  /** Holds {@link #FORMAT_VALUE}: what makes a zip a PT2 archive. */
  public static final String ARCHIVE_FORMAT = "archive_format";
  /** The value of {@link #ARCHIVE_FORMAT}. */
  public static final String FORMAT_VALUE = "pt2";
  /** The archive spec's version (not the zip format's {@code .data/version}). */
  public static final String ARCHIVE_VERSION = "archive_version";
  /** The only archive version torch 2.13 writes and reads. */
  public static final String VERSION_VALUE = "0";
  /** {@code models/<name>.json}: one serialized ExportedProgram per model. */
  public static final String MODELS_DIR = "models/";
  /** The suffix of a model's record under {@link #MODELS_DIR}. */
  public static final String MODEL_SUFFIX = ".json";
  /** Parameters and persistent buffers: {@code weight_<i>} records and one config per model. */
  public static final String WEIGHTS_DIR = "data/weights/";
  /** Non-persistent buffers, lifted tensor constants, custom objects. */
  public static final String CONSTANTS_DIR = "data/constants/";
  /** An AOTInductor model's compiled files: {@code data/aotinductor/<name>/...}. */
  public static final String AOTINDUCTOR_DIR = "data/aotinductor/";
  /** The model {@code torch.export.save} names and {@code torch.export.load} returns. */
  public static final String DEFAULT_MODEL = "model";
  /** Constants payload names: tensors, TorchScript objects, pickled opaque objects. */
  public static final String TENSOR_CONSTANT_PREFIX = "tensor_";
  public static final String CUSTOM_OBJ_PREFIX = "custom_obj_";
  public static final String OPAQUE_OBJ_PREFIX = "opaque_obj_";

  private Pt2Records() {}

  /** {@code data/weights/<model>_weights_config.json}. */
  public static String weightsConfig(String model) {
    return WEIGHTS_DIR + model + "_weights_config.json";
  }

  /** {@code data/constants/<model>_constants_config.json}. */
  public static String constantsConfig(String model) {
    return CONSTANTS_DIR + model + "_constants_config.json";
  }

  /** {@code models/<model>.json}. */
  public static String program(String model) {
    return MODELS_DIR + model + MODEL_SUFFIX;
  }

  /** The torch 2.5-2.7 layout's weights of {@code model}, one torch.save file: {@code data/weights/<model>.pt}. */
  public static String legacyWeights(String model) {
    return WEIGHTS_DIR + model + ".pt";
  }
}
