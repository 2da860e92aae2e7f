package io.ckpt4j.scan;

import java.util.Objects;

/**
 * The calls of one opcode on one target in one pickle: REDUCE, NEWOBJ, INST, OBJ with what they
 * call, BUILD, SETITEM(S), APPEND(S) with the object they change; {@code offset} is the first.
 */
public record CallSite(String opcode, String target, String where, long offset, int count) {
  public CallSite {
    Objects.requireNonNull(opcode, "opcode");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(where, "where");
  }
}
