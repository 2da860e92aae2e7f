package io.ckpt4j.scan;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.GlobalPolicy;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.PickleObserver;
import io.ckpt4j.pickle.PickleOptions;
import io.ckpt4j.pickle.PickleReader;
import io.ckpt4j.scan.GlobalUse.GlobalVerdict;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Runs the pickles of one buffer through the loader's pickle machine with a recorder: every
 * global is read as an inert reference (nothing is resolved, so nothing is refused before it is
 * seen), and each global and call site is judged with {@link GlobalPolicy}, as the loader judges
 * them, into the file's {@link FileAudit}.
 */
final class PickleAudit implements PickleObserver {
  /** The prefix of torch's tensor rebuild functions: what a rebuilt tensor is recorded as. */
  private static final String[] TENSOR_REBUILDERS =
      {"torch._utils._rebuild_", "torch._tensor._rebuild_"};
  /** The C++ unpickler of a TorchScript archive resolves these itself; no Python runs. */
  private static final String[] TORCHSCRIPT_BUILTINS = {"__torch__.", "torch.jit._pickle."};
  /** The longest list of inert classes a finding names. */
  private static final int NAMES_SHOWN = 8;
  private static final String PERSISTENT_ID = "persistent id";
  /** The tag of a legacy file's persistent id for a module class. */
  private static final String MODULE_TAG = "module";

  private final FileAudit audit;
  private final String where;
  private final boolean torchReads;
  private final boolean torchScript;
  private final Set<String> inert = new LinkedHashSet<>();
  private int globalsSeen;

  /**
   * @param where names the pickle in the report ("model.pt:archive/data.pkl")
   * @param torchReads whether torch.load unpickles it (else torch never reads it)
   * @param torchScript whether it belongs to a genuine TorchScript archive (C++ unpickler)
   */
  PickleAudit(FileAudit audit, String where, boolean torchReads, boolean torchScript) {
    this.audit = audit;
    this.where = where;
    this.torchReads = torchReads;
    this.torchScript = torchScript;
  }

  /**
   * Reads up to {@code maxPickles} pickles back to back from {@code buf}'s position (after the
   * first, only while the next bytes start a protocol 2+ pickle); returns how many it read. A
   * failure after a global was seen is a finding; before, the bytes are no pickle and -1 is
   * returned.
   */
  int run(ByteBuffer buf, int maxPickles) {
    PickleOptions options = PickleOptions.builder()
        .resolver(GlobalResolver.inert(name -> true))
        .persistentLoader(PickleAudit::persistent)
        .py2StringCharset(StandardCharsets.UTF_8)
        .allowCycles(true)
        .observer(this)
        .where(where)
        .build();
    int read = 0;
    try {
      while (read < maxPickles && buf.hasRemaining()
          && (read == 0 || HeadBytes.looksLikeBinaryPickle(buf.slice()))) {
        PickleReader.loadNext(buf, options);
        read++;
      }
    } catch (CheckpointException e) {
      if (read == 0 && globalsSeen == 0) return -1;
      audit.add(FindingKind.INCOMPLETE, where, "the pickle machine stopped: " + e.getMessage());
    } finally {
      if (!inert.isEmpty()) {
        audit.add(finding(FindingKind.INERT_CLASS, names(inert)));
      }
    }
    return read;
  }

  /**
   * A storage's persistent id as an inert record; a legacy whole model's {@code ('module', cls,
   * source_file, source)} as its class, which the pickle then instantiates (as LegacyReader does).
   */
  private static Object persistent(Object pid) {
    if (pid instanceof PyTuple t && t.size() > 1 && MODULE_TAG.equals(t.get(0))) return t.get(1);
    return new PyObject(PERSISTENT_ID, PyTuple.of(pid), Map.of());
  }

  @Override
  public void global(String module, String name, long offset) {
    globalsSeen++;
    String qualified = module + "." + name;
    if (allowed(module, name)) {
      audit.global(qualified, GlobalVerdict.ALLOWED, where);
    } else if (GlobalPolicy.runsCode(qualified)) {
      audit.global(qualified, GlobalVerdict.DANGEROUS, where);
      audit.add(finding(FindingKind.DANGEROUS_GLOBAL, qualified + " at byte " + offset));
    } else if (module.equals("torch") && name.endsWith("Storage")) {
      audit.global(qualified, GlobalVerdict.UNKNOWN, where);
      audit.add(finding(FindingKind.UNKNOWN_DTYPE, qualified + " at byte " + offset));
    } else {
      audit.global(qualified, GlobalVerdict.INERT_OBJECT, where);
      inert.add(qualified);
    }
  }

  @Override
  public void call(String opcode, Object target, long offset) {
    String name = describe(target);
    audit.call(opcode, name, where, offset);
    String at = name + " (" + opcode + " at byte " + offset + ")";
    boolean constructs = !opcode.equals("BUILD") && !opcode.startsWith("SETITEM")
        && !opcode.startsWith("APPEND");
    if (target instanceof PyGlobalRef g) {
      String qualified = g.qualifiedName();
      if (allowed(g.module(), g.name())) return;
      if (GlobalPolicy.runsCode(qualified)) {
        audit.add(finding(FindingKind.DANGEROUS_CALL, at));
      } else if (!constructs) {
        audit.add(finding(FindingKind.UNKNOWN_CALL, at + " changes the global itself"));
      } else if (opcode.equals("REDUCE") && !GlobalPolicy.mayCall(qualified)) {
        audit.global(qualified, GlobalVerdict.UNKNOWN, where);
        inert.remove(qualified);
        audit.add(finding(FindingKind.UNKNOWN_CALL, at));
      }
    } else if (opcode.equals("REDUCE")) {
      audit.add(finding(FindingKind.UNKNOWN_CALL, at + ": a value the pickle built is called"));
    } else if (!opcode.equals("BUILD") && isTensor(target)) {
      audit.add(finding(FindingKind.SETITEMS_ON_TENSOR, at));
    }
  }

  private boolean allowed(String module, String name) {
    String qualified = module + "." + name;
    if (torchScript) {
      for (String prefix : TORCHSCRIPT_BUILTINS) if (qualified.startsWith(prefix)) return true;
    }
    return GlobalPolicy.isAllowed(module, name);
  }

  private static boolean isTensor(Object target) {
    if (!(target instanceof PyObject o)) return false;
    for (String prefix : TENSOR_REBUILDERS) if (o.className().startsWith(prefix)) return true;
    return false;
  }

  private static String describe(Object target) {
    if (target instanceof PyGlobalRef g) return PythonTypes.printable(g.qualifiedName());
    if (target instanceof PyObject o) {
      return "object of " + PythonTypes.printable(o.className());
    }
    return PythonTypes.name(target);
  }

  private Finding finding(FindingKind kind, String detail) {
    TorchBehaviour torch = torchReads ? kind.torch() : TorchBehaviour.LOADS;
    String said = torchReads ? detail : detail + " (torch.load never unpickles this entry)";
    return new Finding(kind, where, said, torch);
  }

  private static String names(Set<String> names) {
    String shown = String.join(", ", names.stream().limit(NAMES_SHOWN).toList());
    return names.size() <= NAMES_SHOWN ? shown : shown + " and " + (names.size() - NAMES_SHOWN)
        + " more";
  }
}
