package io.ckpt4j.layout.pt2;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.TorchZip;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.container.zip.ZipEntry;
import io.ckpt4j.container.zip.ZipKind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A PT2 archive as data: a torch zip ({@code PyTorchFileWriter}) whose {@code archive_format}
 * record says {@code pt2}, holding exported programs ({@code torch.export.save}: {@code
 * models/<name>.json}, weights and constants under {@code data/}), AOTInductor models ({@code
 * data/aotinductor/<name>/}: a compiled {@code .so} and its files) or both. Which one it is:
 * {@link #content()}.
 *
 * <p>Reads and checks the JSON records (payload configs, programs); the tensors themselves are
 * {@code io.ckpt4j.load}'s job. The archive stays owned by whoever opened it ({@link #open}
 * makes this view the owner: close it).
 */
public final class Pt2Archive implements AutoCloseable {
  /** What a PT2 archive holds. */
  public enum Content {
    /** Exported programs ({@code torch.export.save}), perhaps beside AOTInductor models. */
    PROGRAMS,
    /** Only AOTInductor models ({@code aoti_compile_and_package}): compiled code and weights. */
    AOTINDUCTOR,
    /** Neither (extra files only). */
    NOTHING
  }

  /** The payloads of a model: weights (parameters, persistent buffers) or constants. */
  public enum Section {
    WEIGHTS(Pt2Records.WEIGHTS_DIR), CONSTANTS(Pt2Records.CONSTANTS_DIR);

    private final String dir;

    Section(String dir) {
      this.dir = dir;
    }

    /** The records' directory ({@code data/weights/}). */
    public String dir() {
      return dir;
    }

    String config(String model) {
      return this == WEIGHTS ? Pt2Records.weightsConfig(model) : Pt2Records.constantsConfig(model);
    }
  }

  /** A program's JSON of more than this is no program anyone exported. */
  static final long MAX_JSON_BYTES = 1L << 30;

  private final TorchZip torch;
  private final boolean owner;
  private final String version;
  private final List<String> programs;
  private final List<String> aotiModels;

  private Pt2Archive(TorchZip torch, boolean owner, String version, List<String> programs,
      List<String> aotiModels) {
    this.torch = torch;
    this.owner = owner;
    this.version = version;
    this.programs = List.copyOf(programs);
    this.aotiModels = List.copyOf(aotiModels);
  }

  /** Opens and checks the PT2 archive {@code file}; the result owns it. */
  public static Pt2Archive open(Path file) throws CheckpointException {
    return ZipArchive.openWith(file, zip -> of(TorchZip.inspect(zip), true));
  }

  /** A view of {@code torch} (of kind PT2), which the caller keeps owning. */
  public static Pt2Archive of(TorchZip torch) throws CheckpointException {
    return of(torch, false);
  }

  private static Pt2Archive of(TorchZip torch, boolean owner) throws CheckpointException {
    String where = torch.archive().path().toString();
    if (torch.kind() != ZipKind.PT2) {
      throw new CheckpointException(Kind.WRONG_LOADER, where + " is not a PT2 archive (no "
          + Pt2Records.ARCHIVE_FORMAT + " record): not made by torch.export.save");
    }
    String format = torch.readText(Pt2Records.ARCHIVE_FORMAT);
    if (!format.equals(Pt2Records.FORMAT_VALUE)) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, where + ": record "
          + Pt2Records.ARCHIVE_FORMAT + " says '" + abbreviate(format) + "', not '"
          + Pt2Records.FORMAT_VALUE + "': not a PT2 archive torch.export.load reads");
    }
    // PT2ArchiveReader.archive_version(): no record means version 0.
    String version = torch.record(Pt2Records.ARCHIVE_VERSION).isPresent()
        ? torch.readText(Pt2Records.ARCHIVE_VERSION) : Pt2Records.VERSION_VALUE;
    if (!version.equals(Pt2Records.VERSION_VALUE)) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, where + " has "
          + Pt2Records.ARCHIVE_VERSION + " '" + abbreviate(version) + "'; torch 2.13 (and"
          + " ckpt4j) read version " + Pt2Records.VERSION_VALUE + " only: written by a newer"
          + " torch");
    }
    TreeSet<String> programs = new TreeSet<>();
    TreeSet<String> aoti = new TreeSet<>();
    for (String name : torch.recordNames()) {
      if (name.startsWith(Pt2Records.MODELS_DIR) && name.endsWith(Pt2Records.MODEL_SUFFIX)
          && name.length() > Pt2Records.MODELS_DIR.length() + Pt2Records.MODEL_SUFFIX.length()) {
        programs.add(name.substring(Pt2Records.MODELS_DIR.length(),
            name.length() - Pt2Records.MODEL_SUFFIX.length()));
      } else if (name.startsWith(Pt2Records.AOTINDUCTOR_DIR)) {
        String rest = name.substring(Pt2Records.AOTINDUCTOR_DIR.length());
        int slash = rest.indexOf('/');
        if (slash > 0) aoti.add(rest.substring(0, slash));
      }
    }
    return new Pt2Archive(torch, owner, version, new ArrayList<>(programs),
        new ArrayList<>(aoti));
  }

  /** The archive's file. */
  public Path path() {
    return torch.archive().path();
  }

  /** The torch zip under this view. */
  public TorchZip torch() {
    return torch;
  }

  /** {@code archive_version} ({@code "0"}). */
  public String archiveVersion() {
    return version;
  }

  /** The exported programs' model names, sorted ({@code model} for torch.export.save). */
  public List<String> programs() {
    return programs;
  }

  /** The AOTInductor models' names, sorted. */
  public List<String> aotiModels() {
    return aotiModels;
  }

  /** Programs, compiled models only, or neither. */
  public Content content() {
    if (!programs.isEmpty()) return Content.PROGRAMS;
    return aotiModels.isEmpty() ? Content.NOTHING : Content.AOTINDUCTOR;
  }

  /**
   * The model a reader takes when none is named: {@code model}, as {@code torch.export.load}
   * returns {@code exported_programs["model"]}.
   */
  public String defaultProgram() throws CheckpointException {
    if (programs.contains(Pt2Records.DEFAULT_MODEL)) return Pt2Records.DEFAULT_MODEL;
    throw new CheckpointException(Kind.NOT_FOUND, path() + " holds no exported program named '"
        + Pt2Records.DEFAULT_MODEL + "' (what torch.export.load reads) but " + programs
        + ": name one with LoadOptions.pt2Model(name) (CLI: --model NAME)");
  }

  /** Refuses {@code model} unless the archive has that exported program. */
  public void requireProgram(String model) throws CheckpointException {
    if (!programs.contains(model)) {
      throw new CheckpointException(Kind.NOT_FOUND, path() + " holds no exported program '"
          + model + "'; its programs: " + programs);
    }
  }

  /** The summary of {@code model}'s serialized program ({@code models/<model>.json}). */
  public ProgramSummary program(String model) throws CheckpointException {
    requireProgram(model);
    String record = Pt2Records.program(model);
    return ProgramSummary.parse(json(record), path() + ":" + where(record));
  }

  /**
   * The payload config of {@code model}'s weights or constants, in the file's order.
   *
   * @throws CheckpointException MALFORMED_CONTAINER when the config record is missing;
   *     UNSUPPORTED_FORMAT for the torch 2.5-2.7 layout (one torch.save file per model)
   */
  public Map<String, PayloadEntry> payloads(String model, Section section)
      throws CheckpointException {
    requireProgram(model);
    if (section == Section.WEIGHTS && torch.record(Pt2Records.legacyWeights(model)).isPresent()) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, path() + " keeps model '" + model
          + "''s weights in one torch.save file (" + Pt2Records.legacyWeights(model)
          + "), the layout of torch before 2.8, which ckpt4j does not read");
    }
    String record = section.config(model);
    return PayloadEntry.parseConfig(json(record), path() + ":" + where(record));
  }

  /** The payload record {@code <section dir><pathName>}, or a MALFORMED_CONTAINER error. */
  public ZipEntry payload(Section section, PayloadEntry entry) throws CheckpointException {
    String record = section.dir() + entry.pathName();
    Optional<ZipEntry> found = torch.record(record);
    if (found.isEmpty()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, path() + ": '" + entry.fqn()
          + "' is stored in record " + where(record) + ", which the archive does not have:"
          + " truncated or corrupt PT2 archive");
    }
    return found.get();
  }

  /** {@code <root>/<record>}, as messages name it. */
  public String where(String record) {
    return torch.root() + "/" + record;
  }

  private JsonNode json(String record) throws CheckpointException {
    Optional<ZipEntry> entry = torch.record(record);
    if (entry.isEmpty()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, path() + " has no record "
          + where(record) + ", which torch.export.save always writes: truncated or corrupt PT2"
          + " archive");
    }
    return Pt2Json.parseObject(torch.archive().read(entry.get(), MAX_JSON_BYTES, "JSON records"),
        path() + ":" + where(record));
  }

  @Override
  public void close() throws CheckpointException {
    if (owner) torch.archive().close();
  }

  private static String abbreviate(String text) {
    final int max = 40;
    return text.length() <= max ? text : text.substring(0, max) + "...";
  }
}
