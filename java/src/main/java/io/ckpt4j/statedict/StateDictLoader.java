package io.ckpt4j.statedict;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PythonTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Python's {@code model.load_state_dict(sd, strict, assign)}, behind {@link StateDict#loadInto}:
 * the keys matched ({@link StateDictMatch}), every problem checked before anything is written,
 * then the copies (or assignments) under {@code NoGradGuard}.
 */
final class StateDictLoader {
  private StateDictLoader() {}

  /** See {@link StateDict#loadInto(Module, LoadStateDictOptions)}. */
  static IncompatibleKeys load(Module module, StateDict stateDict,
      LoadStateDictOptions options) throws CheckpointException {
    Objects.requireNonNull(module, "module");
    Objects.requireNonNull(stateDict, "stateDict");
    Objects.requireNonNull(options, "options");
    try (ModuleTree tree = ModuleTree.of(module)) {
      List<StateDict> temporaries = new ArrayList<>();
      try {
        StateDict source = options.fixModulePrefix()
            ? reconcilePrefixes(tree, stateDict, temporaries)
            : stateDict;
        return load(tree, source, options);
      } finally {
        for (StateDict t : temporaries) t.close();
      }
    } catch (IllegalStateException e) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          "cannot walk the module to load a state_dict: "
          + e.getMessage(), e);
    }
  }

  private static IncompatibleKeys load(ModuleTree tree, StateDict source,
      LoadStateDictOptions options) throws CheckpointException {
    try (StateDictMatch match = StateDictMatch.of(tree, source)) {
      IncompatibleKeys keys = match.incompatibleKeys();
      boolean keyErrors = options.strict()
          && (!keys.missingKeys().isEmpty() || !keys.unexpectedKeys().isEmpty());
      if (keyErrors || !keys.shapeMismatches().isEmpty()) {
        throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
            LoadErrors.message(tree.typeName(), keys, options.strict()));
      }
      write(match.copies(), options.assign());
      return keys;
    }
  }

  /** {@code module.} / {@code _orig_mod.} stripped from or added to the state_dict's keys. */
  private static StateDict reconcilePrefixes(ModuleTree tree, StateDict stateDict,
      List<StateDict> temporaries) throws CheckpointException {
    List<String> moduleKeys = StateDictMatch.moduleKeys(tree);
    StateDict current = stateDict;
    // Each pass removes or adds one wrapper level; nesting deeper than every wrapper is not real.
    for (int pass = 0; pass < 2 * StateDict.WRAPPER_PREFIXES.size(); pass++) {
      StateDict next = null;
      for (String prefix : StateDict.WRAPPER_PREFIXES) {
        if (Prefixes.allStartWith(current.keys(), prefix)
            && Prefixes.noneStartWith(moduleKeys, prefix)) {
          next = current.stripPrefix(prefix);
        } else if (Prefixes.allStartWith(moduleKeys, prefix)
            && Prefixes.noneStartWith(current.keys(), prefix) && !current.keys().isEmpty()) {
          next = current.addPrefix(prefix);
        }
        if (next != null) break;
      }
      if (next == null) break;
      temporaries.add(next);
      current = next;
    }
    return current;
  }

  private static void write(List<StateDictMatch.Copy> copies, boolean assign)
      throws CheckpointException {
    try (NoGradGuard guard = new NoGradGuard()) {
      for (StateDictMatch.Copy copy : copies) {
        try {
          if (assign) {
            copy.target().set_data(copy.source());
          } else {
            copy.target().copy_(copy.source());
          }
        } catch (RuntimeException e) {
          throw new CheckpointException(Kind.NATIVE, "while " + (assign ? "assigning" : "copying")
              + " the parameter named \"" + PythonTypes.printable(copy.key()) + "\": "
              + CheckpointException.firstLine(e) + " (keys before it in the state_dict are loaded)",
              e);
        }
      }
    }
  }
}
