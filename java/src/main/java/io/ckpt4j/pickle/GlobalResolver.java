package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyCallable;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Decides what a pickle's globals (GLOBAL, STACK_GLOBAL, INST, OBJ) are. Nothing is imported:
 * the resolver returns the value that GLOBAL pushes — a {@link PyCallable} for classes and
 * functions the caller implements in Java, or any constant (a dtype object, say) — or refuses.
 *
 * <h2>Composition: refusal falls through</h2>
 *
 * A resolver refuses a global by throwing {@link UnsupportedGlobalException}. {@link #orElse}
 * catches exactly that exception and asks the next resolver, so chains read in order of trust:
 *
 * <pre>{@code
 * GlobalResolver resolver = torchGlobals
 *     .orElse(GlobalResolver.of(userAllowlist))
 *     .orElse(GlobalResolver.inert(userInertNames::contains))
 *     .orElse(GlobalResolver.refuseAll());
 * }</pre>
 *
 * Any other {@link CheckpointException} stops the chain: the global was recognised but is wrong
 * (a bad argument, say). When the whole chain refuses, the unpickler throws an
 * {@code UnsupportedGlobalException} whose message comes from its {@link PickleRefusal}.
 *
 * <p>Module names from Python 2 pickles are normalised before the resolver sees them, as
 * Python's {@code fix_imports} and PyTorch do: {@code __builtin__} becomes {@code builtins},
 * {@code copy_reg} becomes {@code copyreg}, and {@code __builtin__.unicode} becomes
 * {@code builtins.str} (see {@code Py2Names}).
 *
 * <p>Objects a resolver returns are leaves for the unpickler's nesting-depth check: a resolver
 * whose results hold deep structures of their arguments must bound them itself.
 */
@FunctionalInterface
public interface GlobalResolver {
  /**
   * The value for the global {@code module.name}; throws {@link UnsupportedGlobalException} to
   * refuse (and let the next resolver in a chain try).
   */
  Object resolve(String module, String name) throws CheckpointException;

  /** This resolver, and {@code next} for every global this one refuses. */
  default GlobalResolver orElse(GlobalResolver next) {
    Objects.requireNonNull(next, "next");
    GlobalResolver first = this;
    return (module, name) -> {
      try {
        return first.resolve(module, name);
      } catch (UnsupportedGlobalException refused) {
        return next.resolve(module, name);
      }
    };
  }

  /** Refuses every global: plain data (dicts, lists, numbers, strings) only. */
  static GlobalResolver refuseAll() {
    return (module, name) -> {
      throw new UnsupportedGlobalException(module, name);
    };
  }

  /**
   * Allows exactly the globals named in {@code byQualifiedName} ("module.name" to the value that
   * GLOBAL pushes) and refuses the rest.
   */
  static GlobalResolver of(Map<String, ?> byQualifiedName) {
    Map<String, ?> table = Map.copyOf(byQualifiedName);
    return (module, name) -> {
      Object value = table.get(module + "." + name);
      if (value == null) {
        throw new UnsupportedGlobalException(module, name);
      }
      return value;
    };
  }

  /**
   * Makes each global whose "module.name" {@code allowed} accepts an inert {@link PyGlobalRef}:
   * called or instantiated, it records a {@link PyObject} and runs nothing; refuses the rest.
   * This reads e.g. {@code argparse.Namespace} or a whole pickled {@code torch.nn.Module} as a
   * tree of {@code PyObject}s.
   */
  static GlobalResolver inert(Predicate<String> allowed) {
    Objects.requireNonNull(allowed, "allowed");
    return (module, name) -> {
      if (!allowed.test(module + "." + name)) {
        throw new UnsupportedGlobalException(module, name);
      }
      return new PyGlobalRef(module, name);
    };
  }

  /**
   * Python's harmless built-ins that plain data needs: {@code collections.OrderedDict} (as a
   * {@link PyOrderedDict}), {@code builtins.set} and {@code frozenset} (as a
   * {@code LinkedHashSet}), {@code builtins.bytearray} and {@code bytes} and {@code _codecs.encode}
   * with a Latin-1, UTF-8 or ASCII codec (as {@link PyBytes}), {@code builtins.object} (as a
   * {@link PyGlobalRef}), and {@code copyreg._reconstructor(cls, object, None)}, protocol 0 and 1's
   * {@code object.__new__(cls)}, which instantiates {@code cls} through its own resolver result.
   * Refuses every other global.
   */
  static GlobalResolver pythonBuiltins() {
    return PythonBuiltins.RESOLVER;
  }
}
