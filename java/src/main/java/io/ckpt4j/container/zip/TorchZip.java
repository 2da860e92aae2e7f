package io.ckpt4j.container.zip;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The PyTorch view of a {@link ZipArchive}: its kind, its top-level folder ("root") and its
 * records by their names under that folder.
 *
 * <p>Like PyTorch's {@code PyTorchStreamReader}, the root is the folder of the first entry
 * ({@code torch.save} names it after the file stem, or {@code archive}; torch 1.5 wrote the
 * {@code version} record first), and every record of a torch.save or TorchScript archive must lie
 * under it. Records of a torch.save checkpoint: {@link #DATA_PKL}, {@code data/<key>} storages,
 * {@link #VERSION}, {@link #BYTEORDER}, {@link #SERIALIZATION_ID}, {@link #FORMAT_VERSION},
 * {@link #STORAGE_ALIGNMENT}.
 */
public final class TorchZip {
  /** The pickle of the saved object. */
  public static final String DATA_PKL = "data.pkl";
  /** The archive format version ("3\n" from recent torch). */
  public static final String VERSION = "version";
  /** Where newer writers may put the version instead; PyTorch looks here first. */
  public static final String DATA_VERSION = ".data/version";
  /** "little" or "big": the byte order of the storages (absent before torch 1.12: little). */
  public static final String BYTEORDER = "byteorder";
  /** A random id torch writes since 2.1. */
  public static final String SERIALIZATION_ID = ".data/serialization_id";
  /** The torch.save format version record (torch 2.5 and later). */
  public static final String FORMAT_VERSION = ".format_version";
  /** The alignment in bytes of storage data (torch 2.5 and later, "64"). */
  public static final String STORAGE_ALIGNMENT = ".storage_alignment";
  /** Storages are the records {@code data/<key>}. */
  public static final String STORAGE_PREFIX = "data/";

  static final String MODEL_JSON = "model.json";
  /** TorchScript's pickle of constants, next to data.pkl. */
  public static final String CONSTANTS_PKL = "constants.pkl";
  /** TorchScript's code records: {@code code/<module>.py}. */
  public static final String CODE_PREFIX = "code/";
  /** The record that marks a PT2 archive (torch.export's {@code ARCHIVE_FORMAT_PATH}). */
  public static final String PT2_ARCHIVE_FORMAT = "archive_format";

  /** The most bytes read from a small text record such as {@link #VERSION}. */
  static final int MAX_TEXT_RECORD = 4096;

  /** Error messages quote at most this many characters of a record. */
  private static final int MAX_QUOTED = 40;

  private static final String BYTEORDER_LITTLE = "little";
  private static final String BYTEORDER_BIG = "big";

  private final ZipArchive archive;
  private final ZipKind kind;
  private final String root;

  private TorchZip(ZipArchive archive, ZipKind kind, String root) {
    this.archive = archive;
    this.kind = kind;
    this.root = root;
  }

  /**
   * Classifies {@code archive} by its entry names.
   *
   * @throws CheckpointException if it is a torch.save or TorchScript archive with an entry outside
   *     its top-level folder (PyTorch refuses those too)
   */
  public static TorchZip inspect(ZipArchive archive) throws CheckpointException {
    List<ZipEntry> entries = archive.entries();
    if (entries.isEmpty()) {
      return new TorchZip(archive, ZipKind.UNKNOWN, "");
    }
    String first = entries.get(0).name();
    int slash = first.indexOf('/');
    // torch.load accepts any single top-level folder, even one with an empty name ("/data.pkl").
    if (slash < 0) {
      return new TorchZip(archive, ZipKind.UNKNOWN, "");
    }
    String root = first.substring(0, slash);
    String prefix = root + "/";
    ZipKind kind = ZipKind.UNKNOWN;
    if (archive.find(prefix + PT2_ARCHIVE_FORMAT).isPresent()) {
      kind = ZipKind.PT2;
    } else if (archive.find(prefix + MODEL_JSON).isPresent()) {
      kind = ZipKind.OLD_MODEL_JSON;
    } else if (archive.find(prefix + CONSTANTS_PKL).isPresent()
        || entries.stream().anyMatch(e -> e.name().startsWith(prefix + CODE_PREFIX))) {
      kind = ZipKind.TORCHSCRIPT;
    } else if (archive.find(prefix + DATA_PKL).isPresent()) {
      kind = ZipKind.TORCH_SAVE;
    }
    if (kind == ZipKind.TORCH_SAVE || kind == ZipKind.TORCHSCRIPT || kind == ZipKind.PT2) {
      for (ZipEntry e : entries) {
        if (!e.name().startsWith(prefix)) {
          throw new ZipAnomalyException(ZipAnomaly.OUTSIDE_PREFIX, Kind.MALFORMED_CONTAINER,
              "entry " + e.name() + " lies outside the"
                  + " archive's top-level folder " + prefix + ", where PyTorch keeps every"
                  + " record: not a valid PyTorch archive").at(archive.location());
        }
      }
    }
    return new TorchZip(archive, kind, root);
  }

  /** The archive this view reads. */
  public ZipArchive archive() {
    return archive;
  }

  /** What the archive holds. */
  public ZipKind kind() {
    return kind;
  }

  /** The top-level folder, without the slash; empty when the first entry has no folder. */
  public String root() {
    return root;
  }

  /**
   * Returns this view if the archive is a torch.save checkpoint.
   *
   * @throws CheckpointException naming what the archive is instead, and what to do about it
   */
  public TorchZip requireTorchSave() throws CheckpointException {
    switch (kind) {
      case TORCH_SAVE:
        return this;
      case TORCHSCRIPT:
        throw error(archive, Kind.WRONG_LOADER,
            "a TorchScript archive (torch.jit.save, or LibTorch's torch::save of a"
                + " module), not a torch.save checkpoint: load it with torch.jit.load or"
                + " torch::jit::load");
      case PT2:
        throw error(archive, Kind.WRONG_LOADER,
            "a PT2 archive (torch.export.save or an AOTInductor package), not a torch.save"
                + " checkpoint: CheckpointLoader.load reads a torch.export program's weights");
      case OLD_MODEL_JSON:
        throw error(archive, Kind.UNSUPPORTED_FORMAT,
            "the old model.json TorchScript/LibTorch archive format (torch ≤ 1.2,"
                + " 2019), which is not supported by LibTorch 2.13: load it with torch 1.x and"
                + " save it again");
      default:
        throw error(archive, Kind.NOT_A_CHECKPOINT,
            "no data.pkl" + misplacedPickle() + ": not a torch.save checkpoint");
    }
  }

  /** Explains where a data.pkl is, when there is one but not where torch.save puts it. */
  private String misplacedPickle() {
    if (archive.entries().isEmpty()) {
      return " (the archive is empty)";
    }
    for (ZipEntry e : archive.entries()) {
      String name = e.name();
      if (name.equals(DATA_PKL) || name.endsWith("/" + DATA_PKL)) {
        return " where torch.save puts it (found " + name + "; torch.save keeps every record in"
            + " the single top-level folder of the first entry"
            + (root.isEmpty() ? "" : ", here " + root + "/") + ")";
      }
    }
    return "";
  }

  /** Record names relative to the root, in central directory order. */
  public List<String> recordNames() {
    if (kind == ZipKind.UNKNOWN && root.isEmpty()) {
      return List.of();
    }
    String prefix = root + "/";
    List<String> names = new ArrayList<>(archive.entries().size());
    for (ZipEntry e : archive.entries()) {
      if (e.name().startsWith(prefix)) {
        names.add(e.name().substring(prefix.length()));
      }
    }
    return Collections.unmodifiableList(names);
  }

  /** The keys of the {@code data/<key>} storage records, in central directory order. */
  public List<String> storageKeys() {
    List<String> keys = new ArrayList<>();
    for (String name : recordNames()) {
      if (name.startsWith(STORAGE_PREFIX)) {
        keys.add(name.substring(STORAGE_PREFIX.length()));
      }
    }
    return Collections.unmodifiableList(keys);
  }

  /** The record {@code <root>/<name>}. */
  public Optional<ZipEntry> record(String name) {
    return kind == ZipKind.UNKNOWN && root.isEmpty() ? Optional.empty()
        : archive.find(root + "/" + name);
  }

  /** The record {@code <root>/<name>}, or an error naming what is missing. */
  public ZipEntry requireRecord(String name) throws CheckpointException {
    Optional<ZipEntry> entry = record(name);
    if (entry.isEmpty()) {
      throw error(archive, Kind.MALFORMED_CONTAINER,
          "no record " + root + "/" + name
              + ": truncated or corrupt checkpoint");
    }
    return entry.get();
  }

  /** The storage record {@code <root>/data/<key>} that the pickle refers to. */
  public ZipEntry storage(String key) throws CheckpointException {
    Optional<ZipEntry> entry = record(STORAGE_PREFIX + key);
    if (entry.isEmpty()) {
      throw error(archive, Kind.MALFORMED_CONTAINER,
          "data.pkl refers to storage '" + key
              + "' but the archive has no entry " + root + "/" + STORAGE_PREFIX + key
              + ": truncated or corrupt checkpoint");
    }
    return entry.get();
  }

  /** The text of a small record (at most 4 KiB of UTF-8), without trailing whitespace. */
  public String readText(String name) throws CheckpointException {
    ZipEntry entry = requireRecord(name);
    ByteBuffer bytes = archive.read(entry, MAX_TEXT_RECORD, "a text record");
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString()
          .stripTrailing();
    } catch (CharacterCodingException e) {
      throw error(archive, Kind.MALFORMED_CONTAINER,
          "record " + entry.name() + " is not UTF-8 text", e);
    }
  }

  /** The archive format version, from {@code .data/version} or else {@code version}. */
  public long version() throws CheckpointException {
    String name = record(DATA_VERSION).isPresent() ? DATA_VERSION : VERSION;
    String text = readText(name);
    try {
      long version = Long.parseLong(text.strip());
      if (version < 0) {
        throw new NumberFormatException("negative");
      }
      return version;
    } catch (NumberFormatException e) {
      throw error(archive, Kind.MALFORMED_CONTAINER,
          "record " + root + "/" + name + " holds '" + abbreviate(text)
              + "', not a version number: corrupt checkpoint", e);
    }
  }

  /**
   * The byte order of the storages: little-endian when {@link #BYTEORDER} is absent (older
   * torch) or says "little".
   *
   * @throws CheckpointException for "big" (not supported yet) or an unknown value
   */
  public ByteOrder byteOrder() throws CheckpointException {
    if (record(BYTEORDER).isEmpty()) {
      return ByteOrder.LITTLE_ENDIAN;
    }
    String text = readText(BYTEORDER);
    if (text.equals(BYTEORDER_LITTLE)) {
      return ByteOrder.LITTLE_ENDIAN;
    }
    if (text.equals(BYTEORDER_BIG)) {
      throw error(archive, Kind.UNSUPPORTED_FORMAT,
          "saved on a big-endian machine (byteorder 'big'):"
              + " big-endian checkpoints are not supported yet; torch.load it and torch.save it"
              + " again on a little-endian machine");
    }
    throw error(archive, Kind.MALFORMED_CONTAINER,
        "record " + root + "/" + BYTEORDER + " holds '"
            + abbreviate(text) + "', expected 'little' or 'big': corrupt checkpoint");
  }

  /** An error about the archive, located at it like {@link ZipArchive}'s own. */
  private static CheckpointException error(ZipArchive archive, Kind kind, String detail) {
    return error(archive, kind, detail, null);
  }

  private static CheckpointException error(
      ZipArchive archive, Kind kind, String detail, Throwable cause) {
    return new CheckpointException(kind, detail, cause).at(archive.location());
  }

  private static String abbreviate(String text) {
    return text.length() <= MAX_QUOTED ? text : text.substring(0, MAX_QUOTED) + "...";
  }

  @Override
  public String toString() {
    return "TorchZip[" + kind + ", root=" + root + ", " + archive.path() + "]";
  }
}
