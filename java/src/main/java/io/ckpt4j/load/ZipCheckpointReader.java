package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.TorchZip;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.container.zip.ZipEntry;
import io.ckpt4j.container.zip.ZipKind;
import io.ckpt4j.layout.pt2.Pt2Archive;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.value.StorageRef;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * torch.save's zip format: {@code <root>/data.pkl} (the object, with storages as persistent ids)
 * and {@code <root>/data/<key>} (each storage's raw bytes, stored uncompressed — 64-byte aligned
 * by torch >= 1.6 — so they are read or mapped in place).
 */
final class ZipCheckpointReader {
  /** A data.pkl larger than this is not a checkpoint anyone wrote (tensors live outside it). */
  static final long MAX_PICKLE_BYTES = 1L << 30;

  private ZipCheckpointReader() {}

  /**
   * zip (torch.save), torchscript (code inside), libtorch (an old model.json archive with
   * parameters and no code: LibTorch C++'s torch::save), pt2 (torch.export.save) or aotinductor
   * (a PT2 archive with compiled models only); an error naming what any other zip is.
   */
  static FormatSniffer.Sniffed classify(Path file) throws CheckpointException {
    return ZipArchive.openWith(file, zip -> {
      TorchZip torch = TorchZip.inspect(zip);
      Format format = switch (torch.kind()) {
        case TORCHSCRIPT -> Format.TORCHSCRIPT;
        case PT2 -> Pt2Archive.of(torch).content() == Pt2Archive.Content.AOTINDUCTOR
            ? Format.AOTINDUCTOR : Format.PT2;
        case OLD_MODEL_JSON -> hasCode(torch) ? Format.TORCHSCRIPT : Format.LIBTORCH;
        default -> {
          torch.requireTorchSave();
          yield Format.ZIP;
        }
      };
      return new FormatSniffer.Sniffed(format, torch);
    });
  }

  /** Why an archive is not loadable as data; names an old model.json archive's age. */
  static String archiveRefusal(Path file) throws CheckpointException {
    try (ZipArchive zip = ZipArchive.open(file)) {
      return archiveRefusal(file, TorchZip.inspect(zip));
    }
  }

  /** {@link #archiveRefusal(Path)} for an archive already open. */
  static String archiveRefusal(Path file, TorchZip torch) {
    if (torch.kind() == ZipKind.PT2) {
      try {
        return Pt2Reader.refusal(Pt2Archive.of(torch));
      } catch (CheckpointException e) {
        return e.getMessage();
      }
    }
    if (torch.kind() == ZipKind.OLD_MODEL_JSON) {
      try {
        torch.requireTorchSave();
      } catch (CheckpointException e) {
        return e.getMessage();
      }
    }
    if (!hasCode(torch)) {
      return file + " is a LibTorch C++ archive: it holds code, which the safe reader never loads";
    }
    return file + " is a TorchScript archive: it holds code, which the safe reader never loads;"
        + " for its weights, if you trust it, call TorchScript.stateDict(file) or run"
        + " ckpt4j convert on it (both run its code)";
  }

  private static boolean hasCode(TorchZip torch) {
    for (String name : torch.recordNames()) {
      if (name.startsWith("code/")) return true;
    }
    return false;
  }

  /** Reads the torch.save zip {@code torch}, opened and classified by the sniffer. */
  static Loaded read(Path file, TorchZip torch, GlobalResolver resolver)
      throws CheckpointException {
    torch.byteOrder();
    ZipEntry pickle = torch.requireRecord(TorchZip.DATA_PKL);
    String where = file + ":" + pickle.name();
    ByteBuffer pkl = torch.archive().read(pickle, MAX_PICKLE_BYTES, "the pickle");
    StorageTable storages = new StorageTable(where);
    Object value = Pickles.load(pkl, resolver, storages::resolve, where);
    for (StorageRef ref : storages.roots().values()) bind(torch, ref, file);
    return new Loaded(Format.ZIP, value, storages.roots().values());
  }

  /**
   * Reads the torch.save archive that fills bytes {@code [start, start + length)} of
   * {@code file} (a record of a DCP {@code .distcp} file), its storages bound to byte ranges of
   * {@code file}. The archive is closed again; the storages are read when materialized.
   */
  static Loaded readEmbedded(Path file, long start, long length, GlobalResolver resolver)
      throws CheckpointException {
    try (ZipArchive zip = ZipArchive.open(file, start, length)) {
      TorchZip torch = TorchZip.inspect(zip);
      torch.requireTorchSave();
      return read(file, torch, resolver);
    }
  }

  /** Binds storage {@code key} to {@code <root>/data/<key>}: in place when stored. */
  private static void bind(TorchZip torch, StorageRef ref, Path file) throws CheckpointException {
    ZipEntry entry = torch.storage(ref.key());
    if (entry.size() != ref.nbytes()) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage " + ref.key() + " declares " + ref.nbytes()
          + " bytes but " + file + ":" + entry.name() + " holds " + entry.size()
          + ": corrupt checkpoint");
    }
    if (entry.isStored()) {
      ref.bind(new StorageRef.FileRange(file,
          Math.addExact(torch.archive().base(), entry.dataOffset())));
    } else {
      ref.bind(new StorageRef.InMemory(
          torch.archive().later(entry, ZipArchive.MAX_IN_MEMORY_ENTRY, "a storage")::read));
    }
  }
}
