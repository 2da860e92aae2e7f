package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.TorchZip;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.container.zip.ZipEntry;
import io.ckpt4j.layout.pt2.PayloadEntry;
import io.ckpt4j.layout.pt2.Pt2Archive;
import io.ckpt4j.layout.pt2.Pt2Archive.Section;
import io.ckpt4j.layout.pt2.Pt2Records;
import io.ckpt4j.layout.pt2.TensorMeta;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A torch.export program archive's weights and constants, as {@code torch.export.load(f)} gives
 * them: the root is {@code ep.state_dict} (parameters and persistent buffers, Python's names and
 * order, parameters marked as such), and {@link Loaded#constants()} is {@code ep.constants}
 * (non-persistent buffers, lifted tensor constants). Each raw-bytes record is one storage, read
 * or mapped in place like a torch.save zip's; entries naming the same record share it (tied
 * weights stay tied); each tensor is {@code as_strided(record, sizes, strides, offset)}.
 *
 * <p>Checked, each a one-line error: the archive's version and configs; every record named
 * exists; its length is a whole number of elements of the dtype; the tensor lies inside it; the
 * dtype code is one torch 2.13 has and LibTorch holds; the layout is strided; entries over one
 * record agree on its dtype. Not read: pickled payloads (tensor subclasses; {@code
 * torch.load(weights_only=False)} in Python) are refused; TorchScript and opaque objects among the
 * constants are left out with a warning.
 */
final class Pt2Reader {
  private Pt2Reader() {}

  /** Reads program {@code model} (null: torch.export.load's default) of {@code torch}. */
  static Loaded read(Path file, TorchZip torch, String model) throws CheckpointException {
    torch.byteOrder();
    Pt2Archive archive = Pt2Archive.of(torch);
    if (archive.content() != Pt2Archive.Content.PROGRAMS) {
      throw new CheckpointException(Kind.WRONG_LOADER, refusal(archive));
    }
    String name = model == null ? archive.defaultProgram() : model;
    archive.requireProgram(name);
    Map<String, PayloadEntry> weights = archive.payloads(name, Section.WEIGHTS);
    Map<String, PayloadEntry> constants = archive.payloads(name, Section.CONSTANTS);
    Map<String, StorageRef> storages = new LinkedHashMap<>();
    List<String> warnings = new ArrayList<>();
    Map<Object, Object> stateDict = new LinkedHashMap<>();
    for (PayloadEntry entry : weights.values()) {
      stateDict.put(entry.fqn(), tensor(file, archive, Section.WEIGHTS, entry, storages));
    }
    Map<String, Object> constantTensors = new LinkedHashMap<>();
    for (PayloadEntry entry : constants.values()) {
      if (entry.pathName().startsWith(Pt2Records.TENSOR_CONSTANT_PREFIX)) {
        constantTensors.put(entry.fqn(),
            tensor(file, archive, Section.CONSTANTS, entry, storages));
      } else {
        warnings.add("constant '" + entry.fqn() + "' of " + file + " is a "
            + (entry.pathName().startsWith(Pt2Records.CUSTOM_OBJ_PREFIX)
                ? "TorchScript object" : "pickled Python object")
            + " (" + entry.pathName() + "), which holds code: left out");
      }
    }
    return new Loaded(Format.PT2, stateDict, new ArrayList<>(storages.values()), warnings,
        constantTensors);
  }

  /** Why an AOTInductor package or an archive without programs gives no state_dict. */
  static String refusal(Pt2Archive archive) {
    if (archive.content() == Pt2Archive.Content.AOTINDUCTOR) {
      return archive.path() + " is an AOTInductor package (compiled model"
          + (archive.aotiModels().size() == 1 ? " " : "s ") + archive.aotiModels()
          + ": native code with its weights inside), not a torch.export program archive, and no"
          + " reader runs code: run it with io.ckpt4j.aoti.ExportedModel.load (CLI: ckpt4j run"
          + " MODEL.pt2 --input X.pt --output Y.pt); for its weights, save the ExportedProgram"
          + " it was compiled from with torch.export.save and read that";
    }
    return archive.path() + " is a PT2 archive without an exported program (no "
        + Pt2Records.MODELS_DIR + "*" + Pt2Records.MODEL_SUFFIX + "): no weights to read";
  }

  private static TensorRef tensor(Path file, Pt2Archive archive, Section section,
      PayloadEntry entry, Map<String, StorageRef> storages) throws CheckpointException {
    String where = file + ":" + archive.where(section.dir() + entry.pathName()) + " ('"
        + entry.fqn() + "')";
    if (entry.usePickle()) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, "'" + entry.fqn() + "' in " + file
          + " is a pickled tensor (a tensor subclass, which torch.export.load reads with"
          + " torch.load(weights_only=False)): ckpt4j reads plain tensors only");
    }
    TensorMeta meta = entry.tensorMeta();
    if (meta == null) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has no tensor_meta: corrupt PT2 archive");
    }
    String dtypeName = meta.dtypeName().orElseThrow(() -> new CheckpointException(
        Kind.UNSUPPORTED_FORMAT, where + " has dtype code " + meta.dtypeCode()
        + ", which is no torch 2.13 ScalarType: exported by another torch, or corrupt"));
    DType dtype = DType.fromPythonName(dtypeName).orElseThrow(() -> new CheckpointException(
        Kind.UNSUPPORTED_FORMAT, where + " is a tensor of " + dtypeName
        + " (code " + meta.dtypeCode() + "), which ckpt4j cannot hold"));
    if (meta.layout() != TensorMeta.STRIDED) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, where + " has layout code "
          + meta.layout() + ", not strided (" + TensorMeta.STRIDED + "): sparse and other"
          + " layouts are not read");
    }
    long[] sizes = meta.concreteSizes(where);
    long[] strides = meta.concreteStrides(where);
    long offset = meta.concreteStorageOffset(where);
    String key = section.dir() + entry.pathName();
    StorageRef storage = storages.get(key);
    if (storage == null) {
      storage = storage(file, archive, section, entry, dtype, meta.device(), where);
      storages.put(key, storage);
    } else if (storage.dtype() != dtype) {
      throw new CheckpointException(Kind.INVALID_TENSOR, where + " is a tensor of " + dtype
          + " over record " + entry.pathName() + ", which another entry reads as "
          + storage.dtype() + ": corrupt PT2 archive");
    }
    TensorRef ref = TensorRef.create(storage, dtype, offset, sizes, strides,
        meta.requiresGrad(), where);
    if (entry.isParam()) ref.markParameter(meta.requiresGrad());
    return ref;
  }

  /** The record's bytes as one storage of {@code dtype}: in place when stored, else in memory. */
  private static StorageRef storage(Path file, Pt2Archive archive, Section section,
      PayloadEntry entry, DType dtype, String location, String where)
      throws CheckpointException {
    ZipEntry record = archive.payload(section, entry);
    long itemSize = dtype.itemSize();
    if (record.size() % itemSize != 0) {
      throw new CheckpointException(Kind.INVALID_TENSOR, where + " holds " + record.size()
          + " bytes, not a whole number of " + itemSize + "-byte " + dtype
          + " elements: truncated or corrupt PT2 archive");
    }
    StorageRef storage = StorageRef.of(section.dir() + entry.pathName(), dtype, location,
        record.size() / itemSize, where);
    if (record.isStored()) {
      storage.bind(new StorageRef.FileRange(file, record.dataOffset()));
    } else {
      storage.bind(new StorageRef.InMemory(archive.torch().archive().later(record,
          ZipArchive.MAX_IN_MEMORY_ENTRY, "a storage")::read));
    }
    return storage;
  }
}
