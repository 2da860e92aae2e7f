package io.ckpt4j.layout.pt2;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the C++ source Inductor generates for an AOTInductor model ({@code <hash>.wrapper.cpp})
 * says about it: the inputs' checks ({@code check_input_<i>}: dtype, each dimension's static size
 * or dynamic bounds, strides, device type), the input and output names, the constants
 * ({@code constants_info_[i]}) and the pytree call spec. The compiled library holds the same
 * facts, but runs the checks only under {@code AOTI_RUNTIME_CHECK_INPUTS=1} and exposes no
 * shapes; the source is the one place a package states them. Read as text; nothing is compiled.
 */
final class WrapperSource {
  /** Inductor's marker of a model compiled without runtime constant folding (torch 2.13). */
  static final String NO_RUNTIME_FOLDING = "aot_inductor.use_runtime_constant_folding=False";

  private static final Pattern INPUT_NAME =
      Pattern.compile("inputs_info_\\[(\\d+)]\\.name = \"([^\"]*)\";");
  private static final Pattern OUTPUT_NAME =
      Pattern.compile("outputs_info_\\[(\\d+)]\\.name = \"([^\"]*)\";");
  private static final Pattern CONSTANT_FIELD =
      Pattern.compile("constants_info_\\[(\\d+)]\\.(\\w+) = ([^;]*);");
  private static final Pattern SPEC = Pattern.compile("(in|out)_spec_ = R\"\\((.*?)\\)\";");
  private static final Pattern CHECK_START =
      Pattern.compile("static void check_input_(\\d+)\\(");
  private static final Pattern EXPECTED_DTYPE =
      Pattern.compile("_expected_dtype = aoti_torch_dtype_(\\w+)\\(\\);");
  private static final Pattern STATIC_SIZE =
      Pattern.compile("if \\((-?\\d+) != \\w+_size\\[(\\d+)]\\)");
  private static final Pattern MIN_SIZE =
      Pattern.compile("if \\(\\w+_size\\[(\\d+)] < (-?\\d+)\\)");
  private static final Pattern MAX_SIZE =
      Pattern.compile("if \\(\\w+_size\\[(\\d+)] > (-?\\d+)\\)");
  private static final Pattern STRIDE =
      Pattern.compile("if \\((-?\\d+) != \\w+_stride\\[(\\d+)]\\)");
  private static final Pattern DEVICE_TYPE =
      Pattern.compile("_expected_device_type = (-?\\d+);");
  private static final Pattern DTYPE_VALUE = Pattern.compile("cached_torch_dtype_(\\w+)");
  private static final Pattern CONSTANT_TYPE = Pattern.compile("ConstantType::(\\w+)");
  private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");
  private static final Pattern NUMBER = Pattern.compile("-?\\d+");

  private final String text;
  private final String where;

  WrapperSource(String text, String where) {
    this.text = text;
    this.where = where;
  }

  /** The input names by position. */
  List<String> inputNames() throws CheckpointException {
    return indexed(INPUT_NAME, "inputs_info_");
  }

  /** The output names by position. */
  List<String> outputNames() throws CheckpointException {
    return indexed(OUTPUT_NAME, "outputs_info_");
  }

  /** {@code [in_spec, out_spec]}: the pytree specs, as JSON text; null where absent. */
  String[] callSpec() {
    String[] spec = new String[2];
    Matcher m = SPEC.matcher(text);
    while (m.find()) spec[m.group(1).equals("in") ? 0 : 1] = m.group(2);
    return spec;
  }

  /** Whether the model folds constants at run time (and so keeps the original ones). */
  boolean runtimeConstantFolding() {
    return !text.contains(NO_RUNTIME_FOLDING);
  }

  /** Each input's specification, from its generated check. */
  List<AotiInput> inputs() throws CheckpointException {
    List<String> names = inputNames();
    Map<Integer, String> bodies = checkBodies();
    List<AotiInput> inputs = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String body = bodies.get(i);
      if (body == null) {
        throw malformed("has no check_input_" + i + " for input " + names.get(i));
      }
      inputs.add(input(i, names.get(i), body));
    }
    return inputs;
  }

  /** The constants by position. */
  List<AotiConstant> constants() throws CheckpointException {
    Map<Integer, Map<String, String>> fields = new TreeMap<>();
    Matcher m = CONSTANT_FIELD.matcher(text);
    while (m.find()) {
      fields.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new TreeMap<>())
          .put(m.group(2), m.group(3).strip());
    }
    List<AotiConstant> out = new ArrayList<>();
    for (Map.Entry<Integer, Map<String, String>> e : fields.entrySet()) {
      if (e.getKey() != out.size()) throw malformed("skips constants_info_[" + out.size() + "]");
      Map<String, String> f = e.getValue();
      String name = quoted(f.get("name"), "constants_info_[" + e.getKey() + "].name");
      String fqn = f.containsKey("original_fqn")
          ? quoted(f.get("original_fqn"), "constants_info_[" + e.getKey() + "].original_fqn")
          : name;
      out.add(new AotiConstant(name, fqn, group(DTYPE_VALUE, f.get("dtype"), "?"),
          numbers(f.getOrDefault("shape", "")), group(CONSTANT_TYPE, f.get("type"), "Unknown"),
          "true".equals(f.get("from_folded"))));
    }
    return out;
  }

  private AotiInput input(int index, String name, String body) throws CheckpointException {
    TreeMap<Integer, Long> sizes = new TreeMap<>();
    TreeMap<Integer, Long> mins = new TreeMap<>();
    TreeMap<Integer, Long> maxes = new TreeMap<>();
    TreeMap<Integer, Long> strides = new TreeMap<>();
    collect(STATIC_SIZE, body, sizes, 2, 1);
    collect(MIN_SIZE, body, mins, 1, 2);
    collect(MAX_SIZE, body, maxes, 1, 2);
    collect(STRIDE, body, strides, 2, 1);
    int rank = 0;
    for (TreeMap<Integer, Long> map : List.of(sizes, mins, maxes, strides)) {
      if (!map.isEmpty()) rank = Math.max(rank, map.lastKey() + 1);
    }
    List<AotiDim> dims = new ArrayList<>();
    for (int d = 0; d < rank; d++) {
      dims.add(sizes.containsKey(d) ? AotiDim.fixed(sizes.get(d))
          : new AotiDim(null, mins.getOrDefault(d, 0L), maxes.get(d)));
    }
    String device = group(DEVICE_TYPE, body, null);
    return new AotiInput(index, name, group(EXPECTED_DTYPE, body, null), dims,
        contiguous(dims, strides), device == null ? -1 : Integer.parseInt(device));
  }

  /** Whether the checked strides are those of a row-major contiguous tensor of these dims. */
  private static boolean contiguous(List<AotiDim> dims, Map<Integer, Long> strides) {
    if (strides.isEmpty()) return false;
    long expected = 1;
    for (int d = dims.size() - 1; d >= 0; d--) {
      Long stride = strides.get(d);
      AotiDim dim = dims.get(d);
      if (stride != null && dim.size() != null && dim.size() > 1 && stride != expected) {
        return false;
      }
      if (dim.size() == null) return true; // strides above a dynamic dimension are symbolic
      expected = Math.multiplyExact(expected, Math.max(dim.size(), 1));
    }
    return true;
  }

  private static void collect(Pattern p, String body, Map<Integer, Long> into, int dimGroup,
      int valueGroup) {
    Matcher m = p.matcher(body);
    while (m.find()) {
      into.put(Integer.parseInt(m.group(dimGroup)), Long.parseLong(m.group(valueGroup)));
    }
  }

  /** The body of each {@code check_input_<i>}, up to the next generated function. */
  private Map<Integer, String> checkBodies() {
    Map<Integer, String> bodies = new TreeMap<>();
    Matcher m = CHECK_START.matcher(text);
    List<int[]> starts = new ArrayList<>();
    while (m.find()) starts.add(new int[] {Integer.parseInt(m.group(1)), m.end()});
    for (int i = 0; i < starts.size(); i++) {
      int from = starts.get(i)[1];
      int to = i + 1 < starts.size() ? starts.get(i + 1)[1] : text.indexOf("static bool", from);
      bodies.put(starts.get(i)[0], text.substring(from, to < 0 ? text.length() : to));
    }
    return bodies;
  }

  private List<String> indexed(Pattern p, String what) throws CheckpointException {
    Map<Integer, String> found = new TreeMap<>();
    Matcher m = p.matcher(text);
    while (m.find()) found.put(Integer.parseInt(m.group(1)), m.group(2));
    List<String> names = new ArrayList<>();
    for (Map.Entry<Integer, String> e : found.entrySet()) {
      if (e.getKey() != names.size()) throw malformed("skips " + what + "[" + names.size() + "]");
      names.add(e.getValue());
    }
    return names;
  }

  private String quoted(String value, String what) throws CheckpointException {
    if (value != null) {
      Matcher m = QUOTED.matcher(value);
      if (m.matches()) return m.group(1);
    }
    throw malformed("has no quoted " + what);
  }

  private static String group(Pattern p, String value, String otherwise) {
    if (value == null) return otherwise;
    Matcher m = p.matcher(value);
    return m.find() ? m.group(1) : otherwise;
  }

  private static long[] numbers(String list) {
    Matcher m = NUMBER.matcher(list);
    List<Long> values = new ArrayList<>();
    while (m.find()) values.add(Long.parseLong(m.group()));
    return values.stream().mapToLong(Long::longValue).toArray();
  }

  private CheckpointException malformed(String what) {
    return new CheckpointException(Kind.MALFORMED_CONTAINER, where + " " + what
        + ": not the wrapper source torch 2.13's AOTInductor generates");
  }
}
