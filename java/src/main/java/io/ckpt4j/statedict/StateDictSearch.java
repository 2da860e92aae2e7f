package io.ckpt4j.statedict;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.TensorRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Finds the state_dict inside a loaded checkpoint, the way people look for it by hand.
 *
 * <p>A state_dict is a dict whose keys are all str and whose values are all tensors (the root may
 * be an empty one: a model without parameters). The search:
 * <ol>
 *   <li>the root, when it is a state_dict ({@code torch.save(model.state_dict())});
 *   <li>in a dict, the well-known keys in the order of {@link #KNOWN_KEYS} ({@code state_dict}
 *       as Lightning writes it, {@code model_state_dict} as the PyTorch tutorial's training
 *       checkpoint, {@code model} as fairseq / detectron / timm, ...), the first that holds one;
 *   <li>else the one entry of that dict that holds a state_dict under another name — several is
 *       ambiguous and an error that names them;
 *   <li>else the same one level down (the dicts under the well-known keys first), two levels
 *       below the root at most.
 * </ol>
 */
final class StateDictSearch {
  /** Keys that hold a model's state_dict in the checkpoints people write, most specific first. */
  static final List<String> KNOWN_KEYS = List.of("state_dict", "model_state_dict", "model",
      "net", "network", "module", "model_state", "weights", "params");
  /** How many dict levels below the root the search looks. */
  static final int MAX_SEARCH_DEPTH = 2;
  /** How many keys an error message names before it says how many more there are. */
  static final int KEYS_IN_MESSAGE = 8;

  private StateDictSearch() {}

  /** The state_dict tree in {@code root} (see the class comment); {@code where} names the file. */
  static Object find(Object root, String where) throws CheckpointException {
    if (isStateDict(root, true)) return root;
    if (root instanceof Map<?, ?> map) {
      Object found = search(map, 1, where);
      if (found != null) return found;
      throw new CheckpointException(Kind.WRONG_LOADER,
          "no state_dict in " + where + ": the checkpoint is a dict with keys "
          + describeKeys(map) + " and none holds a dict of str to tensors within "
          + MAX_SEARCH_DEPTH + " levels; if one lies deeper, pick it with"
          + " StateDict.fromTree(entry, checkpoint)");
    }
    if (WholeModule.isModule(root)) {
      throw new CheckpointException(Kind.WRONG_LOADER, where + " holds a whole pickled nn.Module ("
          + ((PyObject) root).className() + "), not a state_dict: use StateDict.extract or"
          + " StateDict.fromWholeModule");
    }
    throw new CheckpointException(Kind.INVALID_VALUE,
        "no state_dict in " + where + ": the checkpoint is "
        + PythonTypes.name(root) + ", not a dict of str to tensors");
  }

  private static Object search(Map<?, ?> map, int depth, String where)
      throws CheckpointException {
    for (String key : KNOWN_KEYS) {
      Object value = map.get(key);
      if (isStateDict(value, false)) return value;
    }
    List<Object> others = new ArrayList<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (isStateDict(e.getValue(), false)) others.add(e.getKey());
    }
    if (others.size() == 1) return map.get(others.get(0));
    if (others.size() > 1) {
      throw new CheckpointException(Kind.WRONG_LOADER,
          "several state_dicts in " + where + " (under keys "
          + quotedKeys(others) + "): pick one with StateDict.fromTree(root.get(key), checkpoint)");
    }
    if (depth >= MAX_SEARCH_DEPTH) return null;
    List<Object> order = new ArrayList<>(KNOWN_KEYS);
    for (Object key : map.keySet()) if (!order.contains(key)) order.add(key);
    for (Object key : order) {
      if (map.get(key) instanceof Map<?, ?> inner) {
        Object found = search(inner, depth + 1, where);
        if (found != null) return found;
      }
    }
    return null;
  }

  /** A dict of str → tensor; empty only when {@code allowEmpty} (the root). */
  static boolean isStateDict(Object value, boolean allowEmpty) {
    if (!(value instanceof Map<?, ?> map)) return false;
    if (map.isEmpty()) return allowEmpty;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getKey() instanceof String) || !(e.getValue() instanceof TensorRef)) return false;
    }
    return true;
  }

  /** A StateDict with new references to the tensors of {@code tree}, a dict of str → tensor. */
  static StateDict materialize(Object tree, LoadedCheckpoint ckpt, String where)
      throws CheckpointException {
    if (!(tree instanceof Map<?, ?> map)) {
      throw new CheckpointException(Kind.INVALID_VALUE, where + " is " + PythonTypes.name(tree)
          + ", not a dict of str to tensors");
    }
    StateDict out = StateDict.empty();
    try {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new CheckpointException(Kind.INVALID_VALUE,
              where + " has a key " + PythonTypes.name(e.getKey())
              + "; state_dict keys are str");
        }
        if (!(e.getValue() instanceof TensorRef ref)) {
          throw new CheckpointException(Kind.INVALID_VALUE,
              where + " maps '" + PythonTypes.printable(key) + "' to "
              + PythonTypes.name(e.getValue()) + "; state_dict values are tensors");
        }
        out.putOwned(key, new Tensor(ckpt.tensor(ref)));
      }
    } catch (CheckpointException e) {
      out.close();
      throw e;
    }
    if (map instanceof PyOrderedDict ordered) {
      out.setMetadata(ordered.attributes().get(StateDict.METADATA_ATTRIBUTE));
    }
    return out;
  }

  static String describeKeys(Map<?, ?> map) {
    List<String> names = new ArrayList<>();
    for (Object key : map.keySet()) {
      if (names.size() == KEYS_IN_MESSAGE) {
        names.add("... " + (map.size() - KEYS_IN_MESSAGE) + " more");
        break;
      }
      names.add(PythonTypes.printable(String.valueOf(key)));
    }
    return names.toString();
  }

  private static String quotedKeys(List<Object> keys) {
    List<String> out = new ArrayList<>();
    for (Object key : keys) out.add(PythonTypes.printable(String.valueOf(key)));
    return out.toString();
  }
}
