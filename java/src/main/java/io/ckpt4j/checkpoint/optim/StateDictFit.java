package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Whether an optimizer state dict fits an optimizer, as Python's {@code load_state_dict} checks
 * it (the number of groups, each group's size) and beyond (each state tensor's shape), with one
 * error line that says what differs and what to do.
 */
final class StateDictFit {
  private StateDictFit() {}

  /**
   * Python's {@code id_map}: each saved parameter index to the position of the parameter at the
   * same place in {@code groups} (across the groups, in order).
   */
  static Map<Long, Integer> positions(OptimizerStateDict stateDict, List<ParamGroup> groups,
      String name) throws CheckpointException {
    List<Map<String, Object>> saved = stateDict.paramGroups();
    if (saved.size() != groups.size()) {
      throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
          "the optimizer state_dict has " + saved.size()
          + " param groups but this " + name + " has " + groups.size()
          + ": build the optimizer with the same param groups as the run that saved it");
    }
    Map<Long, Integer> idMap = new HashMap<>();
    int index = 0;
    for (int g = 0; g < groups.size(); g++) {
      List<Long> savedParams = stateDict.groupParams(g);
      int size = groups.get(g).params().size();
      if (savedParams.size() != size) {
        throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
            "param group " + g + " of the optimizer state_dict has "
            + savedParams.size() + " parameters but this " + name + "'s group " + g + " has "
            + size + ": build it over the same parameters, in Python's model.parameters() order");
      }
      for (Long id : savedParams) idMap.put(id, index++);
    }
    for (Long key : stateDict.state().keySet()) {
      if (!idMap.containsKey(key)) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            "the optimizer state_dict has state for parameter " + key
            + ", which no param group lists: the state_dict is inconsistent");
      }
    }
    return idMap;
  }

  /** A per-parameter state tensor must have its parameter's shape. */
  static void checkShape(int index, String key, Tensor t, Tensor param) throws CheckpointException {
    long[] want = OptimMath.shape(param);
    long[] got = OptimMath.shape(t);
    if (!Arrays.equals(want, got)) {
      throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
          "the optimizer state '" + key + "' of parameter " + index
          + " has shape " + Arrays.toString(got) + " but the parameter has shape "
          + Arrays.toString(want) + ": the state_dict was saved for another model, or the"
          + " parameters are not in Python's model.parameters() order");
    }
  }
}
