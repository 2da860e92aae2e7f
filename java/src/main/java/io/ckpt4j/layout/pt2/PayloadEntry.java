package io.ckpt4j.layout.pt2;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One entry of a payload config ({@code data/weights/<model>_weights_config.json}, {@code
 * data/constants/<model>_constants_config.json}): torch.export's {@code PayloadMeta}. A tensor
 * saved as raw bytes ({@code use_pickle} false) is the record {@code path_name} holding its whole
 * storage's bytes, read through {@code tensor_meta}'s dtype, sizes, strides and offset; several
 * entries naming one record share that storage (tied weights). {@code use_pickle} entries are
 * torch.save'd tensor subclasses or pickled objects; {@code tensor_meta} is absent for objects.
 *
 * @param fqn the state_dict / constants name ({@code lin.weight})
 * @param pathName the record's name under the payload's directory ({@code weight_0})
 * @param tensorMeta null for a custom object
 */
public record PayloadEntry(String fqn, String pathName, boolean isParam, boolean usePickle,
    TensorMeta tensorMeta) {
  static final String CONFIG = "config";

  /**
   * The entries of a payload config, in the file's order (the order torch.export.load builds
   * {@code ep.state_dict} / {@code ep.constants} in).
   */
  static Map<String, PayloadEntry> parseConfig(JsonNode root, String where)
      throws CheckpointException {
    JsonNode config = Pt2Json.object(root, CONFIG, where);
    Map<String, PayloadEntry> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : config.properties()) {
      String at = where + " entry '" + e.getKey() + "'";
      JsonNode meta = e.getValue();
      if (!meta.isObject()) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            at + " is not an object: corrupt PT2 archive");
      }
      String path = checkPathName(Pt2Json.text(meta, "path_name", at), at);
      JsonNode tensorMeta = meta.get("tensor_meta");
      out.put(e.getKey(), new PayloadEntry(e.getKey(), path, Pt2Json.bool(meta, "is_param", at),
          Pt2Json.bool(meta, "use_pickle", at),
          tensorMeta == null || tensorMeta.isNull() ? null : TensorMeta.parse(tensorMeta, at)));
    }
    return Collections.unmodifiableMap(out);
  }

  /** A payload record is a plain name in its directory: no folder, no parent step. */
  private static String checkPathName(String name, String where) throws CheckpointException {
    if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..")
        || name.indexOf('\0') >= 0) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, where + " names record '"
          + name + "', not a record name inside its directory: corrupt PT2 archive");
    }
    return name;
  }
}
