/*
 * When a response is complete: src/engine/response-reader.ts in C, rule for rule, so both engines
 * end an exchange on the same byte. Fixed-size state: an HTTP head is looked for in at most
 * RESPONSE_HEAD_MAX bytes (a server sending more is an error, never an unbounded buffer).
 */
#ifndef TLSBENCH_RESPONSE_READER_H
#define TLSBENCH_RESPONSE_READER_H

#include <stddef.h>

enum framing { FRAMING_FIRST_BYTE = 0, FRAMING_BYTES = 1, FRAMING_UNTIL_CLOSE = 2, FRAMING_HTTP = 3 };

#define RESPONSE_HEAD_MAX 16384
#define CHUNKED_TAIL 7   /* "0\r\n\r\n" and the two bytes before it */
/* Bytes that can hold any status line a server sends; past this without a line end the response is not HTTP. */
#define STATUS_LINE_MAX 256
/* `HTTP/1.1 404 ` or `HTTP/1.1 404\r`: the longest prefix the status line's pattern looks at. */
#define STATUS_PREFIX 13

typedef struct response_reader {
  int framing;
  double count;                 /* FRAMING_BYTES: the response's length */
  double bytes;                 /* bytes of this response so far */
  int head_done;
  double body_expected;         /* Content-Length, or -1 */
  double body_seen;
  int chunked;
  size_t head_len;              /* bytes held in head while looking for its end */
  char head[RESPONSE_HEAD_MAX];
  size_t tail_len;              /* chunked: the last bytes seen */
  char tail[CHUNKED_TAIL];
  /* The status line (response-reader.ts's readStatusLine): only its first STATUS_PREFIX bytes are
     kept, and where its line ends, so the state stays fixed-size. */
  int status_class;             /* the class digit (2 for 2xx), 0 when the response did not start with an HTTP/1.x status line */
  int status_read;              /* the status line was read (or proved not to be HTTP) */
  size_t line_seen;             /* bytes of the first line seen so far */
  int line_cr;                  /* the last byte seen was '\r' */
  char line[STATUS_PREFIX];
  int server_closes;            /* the head said `Connection: close`: the server closes after this response */
} response_reader_t;

void reader_reset(response_reader_t *r);
/* Feeds a chunk: 1 when the response is complete, 0 when more is needed, -1 when the head is too large. */
int reader_consume(response_reader_t *r, const unsigned char *chunk, size_t len);
/* Whether the server closing now ends the response properly. */
int reader_complete_at_end(const response_reader_t *r);

#endif
