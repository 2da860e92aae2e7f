package io.ckpt4j.layout.pt2;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.ZipEntry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One AOTInductor model of a PT2 archive ({@code data/aotinductor/<model>/}) as data: its
 * metadata ({@code AOTI_DEVICE_KEY}, {@code AOTI_CPU_ISA}...), its inputs with the dtype, sizes
 * and dynamic bounds the compiled code was made for, its outputs, its constants and call spec,
 * and the records that make it up. Read from the package's JSON and generated C++ source; the
 * compiled library is not loaded (that is {@code io.ckpt4j.aoti}'s job).
 */
public final class AotiPackage {
  /** The metadata key naming the device the model was compiled for ({@code cpu}, {@code cuda}). */
  public static final String DEVICE_KEY = "AOTI_DEVICE_KEY";
  /** The metadata key naming the CPU instruction sets the code uses ({@code AVX512 ...}). */
  public static final String CPU_ISA_KEY = "AOTI_CPU_ISA";
  /** The metadata key naming the operating system ({@code linux}). */
  public static final String PLATFORM_KEY = "AOTI_PLATFORM";
  /** The metadata key naming the machine ({@code x86_64}). */
  public static final String MACHINE_KEY = "AOTI_MACHINE";
  /** The metadata key naming the torch version, when the package records one. */
  public static final String TORCH_VERSION_KEY = "AOTI_TORCH_VERSION";
  static final String WRAPPER_SOURCE = ".wrapper.cpp";
  static final String WRAPPER_LIBRARY = ".wrapper.so";
  static final String METADATA_SUFFIX = "_metadata.json";
  static final String WRAPPER_METADATA = ".wrapper_metadata.json";
  /** A wrapper source larger than this is no model Inductor generated. */
  static final long MAX_SOURCE_BYTES = 256L << 20;

  private final String model;
  private final String dir;
  private final List<String> records;
  private final Map<String, String> metadata;
  private final List<AotiInput> inputs;
  private final List<String> outputs;
  private final List<AotiConstant> constants;
  private final String inSpec;
  private final String outSpec;
  private final boolean runtimeConstantFolding;
  private final String library;

  private AotiPackage(String model, String dir, List<String> records, Map<String, String> metadata,
      WrapperSource source, String library) throws CheckpointException {
    this.model = model;
    this.dir = dir;
    this.records = List.copyOf(records);
    this.metadata = Collections.unmodifiableMap(metadata);
    this.inputs = List.copyOf(source.inputs());
    this.outputs = List.copyOf(source.outputNames());
    this.constants = List.copyOf(source.constants());
    String[] spec = source.callSpec();
    this.inSpec = spec[0];
    this.outSpec = spec[1];
    this.runtimeConstantFolding = source.runtimeConstantFolding();
    this.library = library;
  }

  /** Reads AOTInductor model {@code model} of {@code archive}. */
  public static AotiPackage read(Pt2Archive archive, String model) throws CheckpointException {
    if (!archive.aotiModels().contains(model)) {
      throw new CheckpointException(Kind.NOT_FOUND, archive.path() + " holds no AOTInductor model '"
          + model + "'; its models: " + archive.aotiModels());
    }
    String dir = Pt2Records.AOTINDUCTOR_DIR + model + "/";
    List<String> records = new ArrayList<>();
    for (String name : archive.torch().recordNames()) {
      if (name.startsWith(dir) && name.length() > dir.length()) records.add(name);
    }
    String where = archive.path() + ":" + archive.where(dir);
    String sourceRecord = only(records, WRAPPER_SOURCE, where);
    if (sourceRecord == null) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, where + " has no generated "
          + "*" + WRAPPER_SOURCE + ", which holds the inputs' dtypes and sizes: ckpt4j runs only"
          + " packages aoti_compile_and_package wrote with its default files");
    }
    String metadataRecord = only(records, WRAPPER_METADATA, where);
    if (metadataRecord == null) metadataRecord = only(records, METADATA_SUFFIX, where);
    Map<String, String> metadata = metadataRecord == null ? new LinkedHashMap<>()
        : metadata(archive, metadataRecord);
    String text = StandardCharsets.UTF_8.decode(bytes(archive, sourceRecord, MAX_SOURCE_BYTES))
        .toString();
    return new AotiPackage(model, dir, records, metadata,
        new WrapperSource(text, archive.path() + ":" + archive.where(sourceRecord)),
        only(records, WRAPPER_LIBRARY, where));
  }

  /** The model's name ({@code model}). */
  public String model() {
    return model;
  }

  /** Its records' folder inside the archive's root ({@code data/aotinductor/model/}). */
  public String dir() {
    return dir;
  }

  /** Its records, relative to the archive's root. */
  public List<String> records() {
    return records;
  }

  /** Its metadata as written (a value may be null); empty when the package has none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The device type it was compiled for ({@code cpu}, {@code cuda}), from the metadata. */
  public String device() {
    String device = metadata.get(DEVICE_KEY);
    return device == null || device.isBlank() ? "cpu" : device;
  }

  /** The CPU instruction sets its code uses ({@code [AVX512, AVX512_VNNI]}); none when unnamed. */
  public List<String> cpuIsa() {
    String isa = metadata.get(CPU_ISA_KEY);
    if (isa == null || isa.isBlank()) return List.of();
    return List.of(isa.strip().split("\\s+"));
  }

  /** The torch version the package names, or null (torch 2.13 writes none). */
  public String torchVersion() {
    return metadata.get(TORCH_VERSION_KEY);
  }

  /** The inputs, in the order forward takes them. */
  public List<AotiInput> inputs() {
    return inputs;
  }

  /** The outputs' names, in the order forward returns them. */
  public List<String> outputs() {
    return outputs;
  }

  /** The constants, in the model's order. */
  public List<AotiConstant> constants() {
    return constants;
  }

  /** The pytree spec of the inputs, as JSON ({@code get_call_spec()[0]}). */
  public String inSpec() {
    return inSpec;
  }

  /** The pytree spec of the outputs, as JSON ({@code get_call_spec()[1]}). */
  public String outSpec() {
    return outSpec;
  }

  /**
   * Whether it was compiled with {@code aot_inductor.use_runtime_constant_folding=True}, which
   * keeps every parameter and buffer the graph uses a constant that new weights can replace.
   */
  public boolean runtimeConstantFolding() {
    return runtimeConstantFolding;
  }

  /** The compiled library's record ({@code <hash>.wrapper.so}), or null when there is none. */
  public String library() {
    return library;
  }

  private static Map<String, String> metadata(Pt2Archive archive, String record)
      throws CheckpointException {
    String where = archive.path() + ":" + archive.where(record);
    JsonNode node = Pt2Json.parseObject(bytes(archive, record, Pt2Archive.MAX_JSON_BYTES), where);
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText());
    }
    return out;
  }

  private static java.nio.ByteBuffer bytes(Pt2Archive archive, String record, long max)
      throws CheckpointException {
    ZipEntry entry = archive.torch().requireRecord(record);
    return archive.torch().archive().read(entry, max, "AOTInductor records");
  }

  /** The one record ending in {@code suffix}, null if none; two are an error. */
  private static String only(List<String> records, String suffix, String where)
      throws CheckpointException {
    String found = null;
    for (String r : records) {
      if (!r.endsWith(suffix)) continue;
      if (found != null) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER, where + " has two *" + suffix
            + " records (" + found + ", " + r + "): not a package aoti_compile_and_package wrote");
      }
      found = r;
    }
    return found;
  }
}
