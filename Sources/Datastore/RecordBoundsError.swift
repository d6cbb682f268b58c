// A record field read past the end of its buffer; record parsers turn it into `.corrupt`.

/// A field read past the end of its record; turned into `.corrupt` by the record parsers.
struct RecordBoundsError: Error {
    var offset: Int
    var length: Int
}
