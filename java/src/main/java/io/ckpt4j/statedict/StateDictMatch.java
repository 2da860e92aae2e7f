package io.ckpt4j.statedict;

import io.ckpt4j.OwnedResource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * A state_dict's keys matched against a module tree exactly as Python's
 * {@code Module.load_state_dict} and {@code _load_from_state_dict} match them, with nothing
 * written yet.
 *
 * <p>Python visits the modules depth first. Each module gets the keys under its prefix; each of
 * its parameters and persistent buffers is copied when {@code prefix + name} is there and is a
 * missing key when not; then, of its keys, one with no dot after the prefix is unexpected unless
 * it names a local parameter or buffer, and one with a dot is unexpected unless its first part
 * names a child module. So {@code missing_keys} come in the module's state_dict order and
 * {@code unexpected_keys} module by module (a key for an unknown child at the level where the
 * child is unknown). Shapes must match, except that a 1-element 1-d tensor fills a 0-d one
 * (torch 0.3 files). Owns the views it makes for that; close it after the copies.
 */
final class StateDictMatch extends OwnedResource {
  /** The key Python's {@code get_extra_state} saves under; LibTorch modules have none. */
  static final String EXTRA_STATE = "_extra_state";
  /** The buffer batch and instance norms of version < 2 may lack. */
  static final String NUM_BATCHES_TRACKED = "num_batches_tracked";

  /** One tensor to load: the module's {@code target} gets the state_dict's {@code source}. */
  record Copy(String key, Tensor target, Tensor source) {}

  private final List<String> missing = new ArrayList<>();
  private final List<String> unexpected = new ArrayList<>();
  private final List<ShapeMismatch> mismatches = new ArrayList<>();
  private final List<Copy> copies = new ArrayList<>();
  private final List<Tensor> owned = new ArrayList<>();

  private StateDictMatch() {}

  static StateDictMatch of(ModuleTree tree, StateDict stateDict) {
    StateDictMatch match = new StateDictMatch();
    match.visit(tree, new ArrayList<>(stateDict.keys()), stateDict);
    return match;
  }

  /** The module's state_dict keys, in order. */
  static List<String> moduleKeys(ModuleTree tree) {
    List<String> keys = new ArrayList<>();
    addKeys(tree, keys);
    return keys;
  }

  private static void addKeys(ModuleTree node, List<String> keys) {
    for (ModuleTree.Local local : node.locals()) keys.add(node.prefix() + local.name());
    for (ModuleTree child : node.children()) addKeys(child, keys);
  }

  private void visit(ModuleTree node, List<String> localKeys, StateDict stateDict) {
    String prefix = node.prefix();
    Set<String> present = new HashSet<>(localKeys);
    Long version = Metadata.version(stateDict.metadata(), node.modulePrefix());
    Set<String> localNames = new HashSet<>();
    for (ModuleTree.Local local : node.locals()) {
      localNames.add(local.name());
      String key = prefix + local.name();
      if (!present.contains(key)) {
        if (!keepsOwnBatchCount(node, local, version)) missing.add(key);
        continue;
      }
      Tensor source = stateDict.get(key);
      Tensor target = local.tensor();
      if (target.dim() == 0 && source.dim() == 1 && source.size(0) == 1) {
        source = source.squeeze();
        owned.add(source);
      }
      long[] expected = shape(target);
      long[] found = shape(source);
      if (!Arrays.equals(expected, found)) {
        mismatches.add(new ShapeMismatch(key, expected, found));
      } else {
        copies.add(new Copy(key, target, source));
      }
    }
    String extraState = prefix + EXTRA_STATE;
    if (present.contains(extraState)) unexpected.add(extraState);
    for (String key : localKeys) {
      if (!key.startsWith(prefix) || key.equals(extraState)) continue;
      String rest = key.substring(prefix.length());
      int dot = rest.indexOf('.');
      boolean known = dot >= 0
          ? node.childNames().contains(rest.substring(0, dot))
          : localNames.contains(rest);
      if (!known) unexpected.add(key);
    }
    for (int i = 0; i < node.children().size(); i++) {
      String childPrefix = prefix + node.childNames().get(i) + ".";
      List<String> childKeys = new ArrayList<>();
      for (String key : localKeys) if (key.startsWith(childPrefix)) childKeys.add(key);
      visit(node.children().get(i), childKeys, stateDict);
    }
  }

  /**
   * Python's {@code _NormBase._load_from_state_dict}: a norm whose metadata version is absent or
   * below 2 fills a missing {@code num_batches_tracked} with its own.
   */
  private static boolean keepsOwnBatchCount(ModuleTree node, ModuleTree.Local local,
      Long version) {
    return node.isNorm() && local.name().equals(NUM_BATCHES_TRACKED)
        && (version == null || version < ModuleTree.NORM_VERSION);
  }

  static long[] shape(Tensor t) {
    long[] shape = new long[(int) t.dim()];
    for (int d = 0; d < shape.length; d++) shape[d] = t.size(d);
    return shape;
  }

  IncompatibleKeys incompatibleKeys() {
    return new IncompatibleKeys(missing, unexpected, mismatches);
  }

  List<Copy> copies() {
    return copies;
  }

  @Override
  protected void releaseResources() {
    for (Tensor t : owned) t.close();
    owned.clear();
  }
}
