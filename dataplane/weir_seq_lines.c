/* The sequence tracker's short ways for a feed's second line: a whole
 * packet the other line brought first, and the other line's copy of an end
 * of session already known.  Each moves the line to where it now stands. */
#include "weir_seq.h"
#include "weir_seq_lines.h"

bool
weir_seq_arbitrated_run(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t first, uint64_t count,
			const struct weir_seq_line *ln)
{
	if (src == NULL || ln == NULL || !src->lines || src->n_gaps || src->state != WEIR_SEQ_SRC_ACTIVE ||
	    !src->started || (int64_t)(first + count - src->next_seq) > 0 ||
	    (int64_t)(first - weir_seq_line_next(src, ln->ab)) < 0)
		return false;
	line_saw(t, src, ln, first, first + count);
	t->c->seq_arbitrated += count;
	t->stats[weir_seq_index(t, src)].arbitrated += count;
	return true;
}

void
weir_seq_line_at_end(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq,
		     const struct weir_seq_line *ln)
{
	if (ln && src->lines)
		line_saw(t, src, ln, next_seq, next_seq);
}
