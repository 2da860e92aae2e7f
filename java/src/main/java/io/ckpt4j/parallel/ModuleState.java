package io.ckpt4j.parallel;

import io.ckpt4j.OwnedResource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.SharedModuleVector;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;

/**
 * What DataParallel copies from a LibTorch module tree into a replica: its tensors (every
 * parameter, then every buffer, as LibTorch's recursive {@code named_parameters} and
 * {@code named_buffers} list them; undefined ones included, so two trees of one architecture line
 * up) and its modules (for the {@code training} flags), as new references that {@link #close()}
 * releases.
 */
final class ModuleState extends OwnedResource {
  private final List<String> names = new ArrayList<>();
  private final List<Tensor> tensors = new ArrayList<>();
  /** The root (the caller's), then new references to its descendants, depth first. */
  private final List<Module> modules = new ArrayList<>();

  private ModuleState() {}

  /** The state of {@code root}'s tree; {@code root} stays the caller's. */
  static ModuleState of(Module root) {
    ModuleState state = new ModuleState();
    try {
      state.add(root.named_parameters(true));
      state.add(root.named_buffers(true));
      state.modules.add(root);
      // modules(false): modules(true) needs the root held by a shared_ptr, which a Java-made
      // root may not be.
      try (SharedModuleVector descendants = root.modules(false)) {
        for (long i = 0; i < descendants.size(); i++) state.modules.add(descendants.get(i));
      }
      return state;
    } catch (RuntimeException e) {
      state.close();
      throw e;
    }
  }

  private void add(StringTensorDict dict) {
    try (dict; StringVector keys = dict.keys()) {
      for (long i = 0; i < keys.size(); i++) {
        String name = keys.get(i).getString();
        names.add(name);
        tensors.add(new Tensor(dict.get(name)));
      }
    }
  }

  /** Parameter then buffer names, dotted ({@code layer1.0.bn1.running_mean}). */
  List<String> names() {
    return names;
  }

  /** The tensors, in the order of {@link #names()}. */
  List<Tensor> tensors() {
    return tensors;
  }

  /**
   * Python's check before a forward: every defined parameter and buffer of {@code root}'s tree is
   * on {@code device} (the first device id), where replica 0 computes with them.
   *
   * @throws IllegalStateException naming the first tensor elsewhere
   */
  static void checkOn(Module root, String device) {
    for (StringTensorDict dict : List.of(root.named_parameters(true), root.named_buffers(true))) {
      try (dict; StringVector keys = dict.keys()) {
        for (long i = 0; i < keys.size(); i++) {
          String name = keys.get(i).getString();
          Tensor t = dict.get(name);
          if (!t.defined()) continue;
          String actual = deviceOf(t);
          if (!actual.equals(device)) {
            throw new IllegalStateException("the wrapped model must have its parameters and"
                + " buffers on " + device + " (device_ids[0]), but " + name + " is on " + actual
                + ": move it there first");
          }
        }
      }
    }
  }

  /**
   * Checks that {@code replica} (a tree built by the factory) has this tree's tensors: the same
   * names in the same order, shapes and dtypes.
   *
   * @throws IllegalArgumentException naming the first difference
   */
  void checkSameArchitecture(ModuleState replica) {
    if (!names.equals(replica.names)) {
      int i = 0;
      while (i < names.size() && i < replica.names.size()
          && names.get(i).equals(replica.names.get(i))) {
        i++;
      }
      throw new IllegalArgumentException("the factory builds a different architecture: entry " + i
          + " is " + describe(names, i) + " in the wrapped model but " + describe(replica.names, i)
          + " in the factory's; the factory must build the wrapped model's architecture");
    }
    if (modules.size() != replica.modules.size()) {
      throw new IllegalArgumentException("the factory builds a different architecture: "
          + modules.size() + " modules in the wrapped model's tree but " + replica.modules.size()
          + " in the factory's");
    }
    for (int i = 0; i < tensors.size(); i++) {
      Tensor mine = tensors.get(i);
      Tensor theirs = replica.tensors.get(i);
      if (mine.defined() != theirs.defined()
          || mine.defined() && (!Arrays.equals(shape(mine), shape(theirs))
              || mine.scalar_type().value != theirs.scalar_type().value)) {
        throw new IllegalArgumentException("the factory builds a different architecture: "
            + names.get(i) + " is " + describe(mine) + " in the wrapped model but "
            + describe(theirs) + " in the factory's");
      }
    }
  }

  /** Gives every module of {@code replica}'s tree the {@code training} flag of this tree's. */
  void copyTrainingFlagsTo(ModuleState replica) {
    // Pre-order: a train() that recurses into children is corrected by the children's own turn.
    for (int i = 0; i < modules.size(); i++) {
      boolean training = modules.get(i).is_training();
      Module theirs = replica.modules.get(i);
      if (theirs.is_training() != training) theirs.train(training);
    }
  }

  /** The tensor's device as LibTorch names it ({@code cpu}, {@code cuda:0}). */
  static String deviceOf(Tensor t) {
    try (Device device = t.device(); BytePointer name = device.str()) {
      return name.getString();
    }
  }

  private static String describe(List<String> names, int i) {
    return i < names.size() ? "'" + names.get(i) + "'" : "missing";
  }

  private static String describe(Tensor t) {
    return t.defined() ? Arrays.toString(shape(t)) + " " + t.scalar_type() : "undefined";
  }

  static long[] shape(Tensor t) {
    long[] shape = new long[(int) t.dim()];
    for (int d = 0; d < shape.length; d++) shape[d] = t.size(d);
    return shape;
  }

  @Override
  protected void releaseResources() {
    ParallelOps.closeAll(tensors);
    if (modules.size() > 1) ParallelOps.closeAll(modules.subList(1, modules.size()));
  }
}
