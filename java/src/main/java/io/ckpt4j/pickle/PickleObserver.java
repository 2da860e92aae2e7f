package io.ckpt4j.pickle;

/**
 * Told what a pickle references and calls, in the order the machine meets it: for audits such as
 * {@code ckpt4j scan}, which records a file's globals and call sites. It sees the values only; it
 * cannot change them, and the resolver still decides what each global is.
 */
public interface PickleObserver {
  /** Observes nothing: the default. */
  PickleObserver NONE = new PickleObserver() {};

  /**
   * A global that GLOBAL, STACK_GLOBAL or INST names, after Python 2 names are mapped, before the
   * resolver is asked (so a refused global is seen too); {@code offset} is its opcode's byte.
   */
  default void global(String module, String name, long offset) {}

  /**
   * A call site: REDUCE, NEWOBJ, NEWOBJ_EX, INST or OBJ with the callable or class it calls, or
   * BUILD, SETITEM, SETITEMS, APPEND or APPENDS with the object (not a dict or list) it changes.
   * {@code target} is the value on the stack: what the resolver returned, or an object built.
   */
  default void call(String opcode, Object target, long offset) {}
}
