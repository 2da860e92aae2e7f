package io.ckpt4j.pickle;

/**
 * Pickle opcodes, protocols 0 to 5, as Python's {@code pickletools} lists them. The comment on
 * each names its argument as stored after the opcode byte.
 */
final class Opcodes {
  private Opcodes() {}

  // Protocol 0 and 1.
  static final int MARK = '('; //              no argument
  static final int STOP = '.'; //              no argument
  static final int POP = '0'; //               no argument
  static final int POP_MARK = '1'; //          no argument
  static final int DUP = '2'; //               no argument
  static final int FLOAT = 'F'; //             decimal text line
  static final int INT = 'I'; //               decimal text line ("00"/"01" are bools)
  static final int BININT = 'J'; //            int32 little-endian
  static final int BININT1 = 'K'; //           uint8
  static final int LONG = 'L'; //              decimal text line, optional trailing 'L'
  static final int BININT2 = 'M'; //           uint16 little-endian
  static final int NONE = 'N'; //              no argument
  static final int PERSID = 'P'; //            ASCII text line
  static final int BINPERSID = 'Q'; //         no argument (pid on the stack)
  static final int REDUCE = 'R'; //            no argument
  static final int STRING = 'S'; //            quoted, escaped text line (Python 2 str)
  static final int BINSTRING = 'T'; //         int32 length + bytes (Python 2 str)
  static final int SHORT_BINSTRING = 'U'; //   uint8 length + bytes (Python 2 str)
  static final int UNICODE = 'V'; //           raw-unicode-escape text line
  static final int BINUNICODE = 'X'; //        uint32 length + UTF-8
  static final int APPEND = 'a'; //            no argument
  static final int BUILD = 'b'; //             no argument
  static final int GLOBAL = 'c'; //            module line + name line
  static final int DICT = 'd'; //              no argument
  static final int EMPTY_DICT = '}'; //        no argument
  static final int APPENDS = 'e'; //           no argument
  static final int GET = 'g'; //               decimal text line
  static final int BINGET = 'h'; //            uint8
  static final int INST = 'i'; //              module line + name line
  static final int LONG_BINGET = 'j'; //       uint32 little-endian
  static final int LIST = 'l'; //              no argument
  static final int EMPTY_LIST = ']'; //        no argument
  static final int OBJ = 'o'; //               no argument
  static final int PUT = 'p'; //               decimal text line
  static final int BINPUT = 'q'; //            uint8
  static final int LONG_BINPUT = 'r'; //       uint32 little-endian
  static final int SETITEM = 's'; //           no argument
  static final int TUPLE = 't'; //             no argument
  static final int EMPTY_TUPLE = ')'; //       no argument
  static final int SETITEMS = 'u'; //          no argument
  static final int BINFLOAT = 'G'; //          float64 big-endian

  // Protocol 2.
  static final int PROTO = 0x80; //            uint8 protocol number
  static final int NEWOBJ = 0x81; //           no argument
  static final int EXT1 = 0x82; //             uint8 extension code
  static final int EXT2 = 0x83; //             uint16 extension code
  static final int EXT4 = 0x84; //             int32 extension code
  static final int TUPLE1 = 0x85; //           no argument
  static final int TUPLE2 = 0x86; //           no argument
  static final int TUPLE3 = 0x87; //           no argument
  static final int NEWTRUE = 0x88; //          no argument
  static final int NEWFALSE = 0x89; //         no argument
  static final int LONG1 = 0x8a; //            uint8 length + two's complement little-endian
  static final int LONG4 = 0x8b; //            int32 length + two's complement little-endian

  // Protocol 3.
  static final int BINBYTES = 'B'; //          uint32 length + bytes
  static final int SHORT_BINBYTES = 'C'; //    uint8 length + bytes

  // Protocol 4.
  static final int SHORT_BINUNICODE = 0x8c; // uint8 length + UTF-8
  static final int BINUNICODE8 = 0x8d; //      uint64 length + UTF-8
  static final int BINBYTES8 = 0x8e; //        uint64 length + bytes
  static final int EMPTY_SET = 0x8f; //        no argument
  static final int ADDITEMS = 0x90; //         no argument
  static final int FROZENSET = 0x91; //        no argument
  static final int NEWOBJ_EX = 0x92; //        no argument
  static final int STACK_GLOBAL = 0x93; //     no argument
  static final int MEMOIZE = 0x94; //          no argument
  static final int FRAME = 0x95; //            uint64 frame length

  // Protocol 5.
  static final int BYTEARRAY8 = 0x96; //       uint64 length + bytes
  static final int NEXT_BUFFER = 0x97; //      no argument
  static final int READONLY_BUFFER = 0x98; //  no argument

  /** The highest protocol this reader knows (Python 3.8+ writes up to 5). */
  static final int HIGHEST_PROTOCOL = 5;

  private static final String[] NAMES = new String[256];

  static {
    String[][] table = {
      {"(", "MARK"}, {".", "STOP"}, {"0", "POP"}, {"1", "POP_MARK"}, {"2", "DUP"},
      {"F", "FLOAT"}, {"I", "INT"}, {"J", "BININT"}, {"K", "BININT1"}, {"L", "LONG"},
      {"M", "BININT2"}, {"N", "NONE"}, {"P", "PERSID"}, {"Q", "BINPERSID"}, {"R", "REDUCE"},
      {"S", "STRING"}, {"T", "BINSTRING"}, {"U", "SHORT_BINSTRING"}, {"V", "UNICODE"},
      {"X", "BINUNICODE"}, {"a", "APPEND"}, {"b", "BUILD"}, {"c", "GLOBAL"}, {"d", "DICT"},
      {"}", "EMPTY_DICT"}, {"e", "APPENDS"}, {"g", "GET"}, {"h", "BINGET"}, {"i", "INST"},
      {"j", "LONG_BINGET"}, {"l", "LIST"}, {"]", "EMPTY_LIST"}, {"o", "OBJ"}, {"p", "PUT"},
      {"q", "BINPUT"}, {"r", "LONG_BINPUT"}, {"s", "SETITEM"}, {"t", "TUPLE"},
      {")", "EMPTY_TUPLE"}, {"u", "SETITEMS"}, {"G", "BINFLOAT"}, {"B", "BINBYTES"},
      {"C", "SHORT_BINBYTES"},
    };
    for (String[] row : table) {
      NAMES[row[0].charAt(0)] = row[1];
    }
    String[] high = {
      "PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE",
      "NEWFALSE", "LONG1", "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET",
      "ADDITEMS", "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8",
      "NEXT_BUFFER", "READONLY_BUFFER",
    };
    for (int i = 0; i < high.length; i++) {
      NAMES[PROTO + i] = high[i];
    }
  }

  /** The opcode's pickletools name, or "opcode 0xNN" for a byte that is no opcode. */
  static String name(int op) {
    String name = NAMES[op & 0xff];
    return name != null ? name : String.format("opcode 0x%02x", op & 0xff);
  }
}
