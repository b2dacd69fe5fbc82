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
} response_reader_t;

void reader_reset(response_reader_t *r);
/* Feeds a chunk: 1 when the response is complete, 0 when more is needed, -1 when the head is too large. */
int reader_consume(response_reader_t *r, const unsigned char *chunk, size_t len);
/* Whether the server closing now ends the response properly. */
int reader_complete_at_end(const response_reader_t *r);

#endif
