package io.ckpt4j.libtorch;

import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.value.DType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.StringSharedModuleDictItem;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringTensorDictItem;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;

/**
 * Compares a LibTorch module archive with the module it is to be loaded into, before anything is
 * copied: LibTorch's own {@code Module::load} stops at the first missing tensor, ignores extra
 * ones, and silently gives a parameter the archive's shape. Names are dotted paths, as in Python
 * ({@code head.0.weight}); Python's words: missing_keys, unexpected_keys, size mismatch.
 *
 * <p>Runs inside the caller's {@link org.bytedeco.javacpp.PointerScope}.
 */
final class ArchiveCheck {
  /** Each list in a message names at most this many keys, then says how many more. */
  static final int MAX_LISTED = 20;

  /** What does not match: empty lists when the archive fits the module exactly. */
  record Report(List<String> missingKeys, List<String> unexpectedKeys, List<String> mismatches) {
    boolean matches() {
      return missingKeys.isEmpty() && unexpectedKeys.isEmpty() && mismatches.isEmpty();
    }

    /** One line: every missing key, unexpected key and mismatch (lists cut at MAX_LISTED). */
    String describe() {
      List<String> parts = new ArrayList<>();
      if (!missingKeys.isEmpty()) parts.add("missing_keys " + listed(missingKeys));
      if (!unexpectedKeys.isEmpty()) parts.add("unexpected_keys " + listed(unexpectedKeys));
      if (!mismatches.isEmpty()) parts.add(String.join("; ", cut(mismatches)));
      return String.join("; ", parts);
    }

    private static String listed(List<String> keys) {
      return "[" + String.join(", ", cut(keys)) + "]";
    }

    private static List<String> cut(List<String> items) {
      if (items.size() <= MAX_LISTED) return items;
      List<String> shown = new ArrayList<>(items.subList(0, MAX_LISTED));
      shown.add("... and " + (items.size() - MAX_LISTED) + " more");
      return shown;
    }
  }

  private ArchiveCheck() {}

  static Report compare(Module module, InputArchive archive) {
    Report report = new Report(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    walk(module, archive, "", report);
    return report;
  }

  private static void walk(Module module, InputArchive archive, String prefix, Report report) {
    Set<String> known = new HashSet<>();
    tensors(module.named_parameters(false), false, archive, prefix, known, report);
    tensors(module.named_buffers(false), true, archive, prefix, known, report);
    StringSharedModuleDict children = module.named_children();
    for (long i = 0; i < children.size(); i++) {
      StringSharedModuleDictItem child = children.get(i);
      Module submodule = child.value();
      if (!submodule.is_serializable()) continue; // Module::save and Module::load skip these
      String key = string(child.key());
      known.add(key);
      InputArchive sub = new InputArchive();
      if (archive.try_read(key, sub)) {
        walk(submodule, sub, prefix + key + ".", report);
      } else {
        allKeys(submodule, prefix + key + ".", report.missingKeys());
      }
    }
    StringVector keys = archive.keys();
    for (long i = 0; i < keys.size(); i++) {
      String key = string(keys.get(i));
      if (known.contains(key)) continue;
      Tensor tensor = new Tensor();
      InputArchive sub = new InputArchive();
      if (archive.try_read(key, tensor)) {
        report.unexpectedKeys().add(prefix + key);
      } else if (archive.try_read(key, sub)) {
        archiveKeys(sub, prefix + key + ".", report.unexpectedKeys());
      } // else an attribute that is no tensor or module (the archive's "training" flag)
    }
  }

  private static void tensors(StringTensorDict dict, boolean buffers, InputArchive archive,
      String prefix, Set<String> known, Report report) {
    for (long i = 0; i < dict.size(); i++) {
      StringTensorDictItem item = dict.get(i);
      String key = string(item.key());
      known.add(key);
      Tensor saved = new Tensor();
      if (!archive.try_read(key, saved, buffers)) {
        report.missingKeys().add(prefix + key);
        continue;
      }
      Tensor own = item.value();
      String savedShape = shape(saved);
      String ownShape = shape(own);
      if (!savedShape.equals(ownShape)) {
        report.mismatches().add("size mismatch for " + prefix + key + ": shape " + savedShape
            + " in the archive, " + ownShape + " in the module");
      } else if (saved.scalar_type().value != own.scalar_type().value) {
        report.mismatches().add("dtype mismatch for " + prefix + key + ": " + dtype(saved)
            + " in the archive, " + dtype(own) + " in the module");
      }
    }
  }

  /** Every parameter and buffer name under {@code module} that serialization would write. */
  private static void allKeys(Module module, String prefix, List<String> out) {
    StringTensorDict params = module.named_parameters(false);
    for (long i = 0; i < params.size(); i++) out.add(prefix + string(params.get(i).key()));
    StringTensorDict buffers = module.named_buffers(false);
    for (long i = 0; i < buffers.size(); i++) out.add(prefix + string(buffers.get(i).key()));
    StringSharedModuleDict children = module.named_children();
    for (long i = 0; i < children.size(); i++) {
      StringSharedModuleDictItem child = children.get(i);
      if (child.value().is_serializable()) {
        allKeys(child.value(), prefix + string(child.key()) + ".", out);
      }
    }
  }

  /** Every tensor name in an archive the module has no place for. */
  private static void archiveKeys(InputArchive archive, String prefix, List<String> out) {
    StringVector keys = archive.keys();
    for (long i = 0; i < keys.size(); i++) {
      String key = string(keys.get(i));
      Tensor tensor = new Tensor();
      InputArchive sub = new InputArchive();
      if (archive.try_read(key, tensor)) {
        out.add(prefix + key);
      } else if (archive.try_read(key, sub)) {
        archiveKeys(sub, prefix + key + ".", out);
      }
    }
  }

  private static String shape(Tensor t) {
    StringBuilder s = new StringBuilder("[");
    for (long d = 0; d < t.dim(); d++) s.append(d == 0 ? "" : ", ").append(t.size(d));
    return s.append(']').toString();
  }

  /** Python's name of the tensor's dtype (compared by value: see ScriptArguments#kind). */
  private static String dtype(Tensor t) {
    int value = t.scalar_type().value;
    for (DType d : DType.values()) {
      if (ScalarTypes.of(d).value == value) return d.pythonName();
    }
    return String.valueOf(t.scalar_type());
  }

  private static String string(BytePointer p) {
    return p.getString(StandardCharsets.UTF_8);
  }
}
