package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.models.ResNetArch;
import io.ckpt4j.statedict.LoadStateDictOptions;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code ckpt4j run --arch resnetN --weights W}: a torchvision ResNet built to fit a weights file
 * and loaded from it. CLI behaviour, kept out of the model: it guesses the model's shape from the
 * file and accepts every way people save weights, where the library asks its callers to build
 * the model and load the state_dict themselves.
 */
final class ResNetWeights {
  private static final String FC_WEIGHT = "fc.weight";
  private static final String CONV1_WEIGHT = "conv1.weight";

  private ResNetWeights() {}

  /**
   * Builds {@code arch} on {@code device} and loads the weights file {@code weights} into it,
   * strictly: {@code torch.load(weights, map_location=device)} (the state_dict at the root, or
   * inside a training checkpoint under {@code model}, {@code state_dict}, ..., or the state_dict
   * of a whole pickled model, read as inert objects without running anything), then
   * {@code model.load_state_dict(state_dict)}. Weights saved from a wrapper load too: the
   * {@code module.} prefix of DataParallel / DistributedDataParallel and the {@code _orig_mod.}
   * prefix of torch.compile are stripped. {@code num_classes} and the width are read from the
   * file ({@code fc.weight}, {@code conv1.weight}); every other key and shape must be
   * torchvision's. The model comes back in training mode, as in Python: call
   * {@link ResNet#eval()} for inference.
   *
   * @param arch "resnet18" .. "resnet152"
   * @param device "cpu", "cuda" or "cuda:N": the map_location, and where the model lives
   * @throws CheckpointException when the file cannot be read, the device does not exist, or the
   *     state_dict does not match (one message listing every missing and unexpected key and
   *     every shape mismatch)
   */
  static ResNet load(String arch, Path weights, String device) throws CheckpointException {
    ResNetArch architecture;
    try {
      architecture = ResNetArch.of(arch);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(Kind.INVALID_VALUE, e.getMessage(), e);
    }
    // Whole pickled models (torch.save(model)) come back as inert objects: nothing runs.
    LoadOptions options = LoadOptions.defaults().mapLocation(device).inertObjects(true);
    try (LoadedCheckpoint checkpoint = CheckpointLoader.load(weights, options);
        StateDict stateDict = StateDict.extract(checkpoint)) {
      long classes = rows(stateDict, FC_WEIGHT, ResNet.IMAGENET_CLASSES);
      long stemWidth = rows(stateDict, CONV1_WEIGHT, ResNet.FULL_WIDTH);
      ResNet model = ResNet.create(architecture, classes, stemWidth);
      try {
        model.to(device);
        stateDict.loadInto(model.module(), LoadStateDictOptions.defaults().fixModulePrefix(true));
        return model;
      } catch (CheckpointException | RuntimeException e) {
        model.close();
        throw e;
      }
    }
  }

  /**
   * The first dimension of {@code key} (with or without a wrapper's {@code module.} prefix), or
   * {@code fallback} when the state_dict has no such 2-d-or-more tensor (strict loading then
   * reports the key) or the size is not a sane int.
   */
  private static long rows(StateDict stateDict, String key, long fallback) {
    String prefix = String.join("", stateDict.detectPrefixes());
    Tensor tensor = stateDict.get(prefix + key);
    if (tensor == null || tensor.dim() < 2) return fallback;
    long size = tensor.size(0);
    return size >= 1 && size <= Integer.MAX_VALUE ? size : fallback;
  }
}
