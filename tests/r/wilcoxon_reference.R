# Reference results of R's wilcox.test(x, y, conf.int = TRUE) for tests/test_wilcoxon.py.
#
#   Rscript tests/r/wilcoxon_reference.R
#       regenerates tests/r/wilcoxon_reference.tsv (seeded cases made here);
#   Rscript tests/r/wilcoxon_reference.R IN.tsv OUT.tsv
#       reads cases (columns case, x, y) from IN.tsv and writes OUT.tsv (used by the
#       live test, which makes fresh random cases in Python).
#
# x and y are comma-separated numbers: NA for missing, Inf / -Inf allowed; non-finite
# values are dropped before calling wilcox.test, as the reference (calc_gene_tn.r) does:
# R's wilcox.test itself drops only NA and ranks Inf / -Inf as the extreme values. The seeded cases are rounded to a few decimals and
# written as R prints them (15 significant digits, which reproduces them exactly), then
# read back from that text before testing, so R works on exactly the numbers stored.
# Output columns: case, x, y, n_x, n_y (finite values), exact (TRUE when R used the
# exact distribution), W (R's statistic), p (two-sided p.value), estimate (R's
# conf.int estimate: the median of the differences in the exact case, a uniroot()
# root in the normal case) and hl (median(outer(x, y, "-")), the Hodges-Lehmann
# estimate). Numbers are printed with 17 significant digits; NA where R gives none.

fmt_num <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
fmt_in <- function(v) paste(ifelse(is.na(v), "NA", as.character(v)), collapse = ",")
parse_vec <- function(s) suppressWarnings(as.numeric(strsplit(s, ",", fixed = TRUE)[[1]]))

one_case <- function(x, y) {
  xf <- x[is.finite(x)]
  yf <- y[is.finite(y)]
  out <- c(length(xf), length(yf), NA, NA, NA, NA, NA)
  if (length(xf) < 1 || length(yf) < 1) return(out)
  if (length(unique(c(xf, yf))) < 2) return(out)  # all tied: no p (R gives NaN)
  # R 4.x drops only NA and ranks +-Inf as extreme values (with Inf in the normal case
  # conf.int fails in uniroot); STATS.md and the reference drop non-finite values first
  wt <- suppressWarnings(wilcox.test(xf, yf, conf.int = TRUE))
  exact <- grepl("exact", wt$method, fixed = TRUE)
  c(length(xf), length(yf), exact, unname(wt$statistic), wt$p.value,
    unname(wt$estimate), median(outer(xf, yf, "-")))
}

write_cases <- function(ids, xs, ys, path) {
  res <- t(mapply(one_case, xs, ys))
  lines <- c(
    paste("case", "x", "y", "n_x", "n_y", "exact", "W", "p", "estimate", "hl", sep = "\t"),
    paste(ids, vapply(xs, fmt_in, ""), vapply(ys, fmt_in, ""), res[, 1], res[, 2],
          ifelse(is.na(res[, 3]), "NA", ifelse(res[, 3] == 1, "TRUE", "FALSE")),
          fmt_num(res[, 4]), fmt_num(res[, 5]), fmt_num(res[, 6]), fmt_num(res[, 7]),
          sep = "\t"))
  writeLines(lines, path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {
  d <- read.delim(args[1], colClasses = "character")
  write_cases(d$case, lapply(d$x, parse_vec), lapply(d$y, parse_vec), args[2])
  quit(save = "no")
}
if (length(args) != 0) stop("usage: wilcoxon_reference.R [IN.tsv OUT.tsv]")

set.seed(20261125)
ids <- character(0); xs <- character(0); ys <- character(0)
add <- function(id, x, y) {
  ids[[length(ids) + 1]] <<- id
  xs[[length(xs) + 1]] <<- fmt_in(x)
  ys[[length(ys) + 1]] <<- fmt_in(y)
}
# continuous values without ties (4 decimals, redrawn until all distinct)
distinct <- function(nx, ny, shift, digits = 4) {
  repeat {
    x <- round(rnorm(nx, mean = shift), digits)
    y <- round(rnorm(ny), digits)
    if (!anyDuplicated(c(x, y))) return(list(x = x, y = y))
  }
}
shifts <- c(0, 0.4, -1, 2.5)
# exact: both groups below 50 values, no ties
for (sz in list(c(1, 4), c(3, 4), c(5, 5), c(8, 3), c(10, 10), c(20, 10), c(25, 12),
                c(12, 40), c(30, 30), c(49, 20), c(49, 49))) {
  for (s in shifts) {
    v <- distinct(sz[1], sz[2], s)
    add(sprintf("exact_%dx%d_shift%+.1f", sz[1], sz[2], s), v$x, v$y)
  }
}
# normal approximation: a group of 50 or more (no ties)
for (sz in list(c(50, 49), c(49, 50), c(50, 50), c(100, 50), c(200, 30), c(60, 10))) {
  for (s in shifts) {
    v <- distinct(sz[1], sz[2], s)
    add(sprintf("normal_%dx%d_shift%+.1f", sz[1], sz[2], s), v$x, v$y)
  }
}
# ties: small groups (normal approximation although both are below 50) and large ones
for (sz in list(c(6, 5), c(10, 8), c(30, 20), c(100, 50), c(120, 80))) {
  for (s in c(0, 0.7, -2)) {
    add(sprintf("ties_%dx%d_shift%+.1f", sz[1], sz[2], s),
        round(2 * rnorm(sz[1], mean = s)), round(2 * rnorm(sz[2])))
  }
  # many zeros (RNA-seq like) and one tie between x and y only
  x <- ifelse(runif(sz[1]) < 0.5, 0, round(abs(rnorm(sz[1], mean = 1)), 3))
  y <- ifelse(runif(sz[2]) < 0.7, 0, round(abs(rnorm(sz[2])), 3))
  add(sprintf("ties_zeros_%dx%d", sz[1], sz[2]), x, y)
  v <- distinct(sz[1], sz[2], 0.3)
  v$y[1] <- v$x[1]
  add(sprintf("ties_one_%dx%d", sz[1], sz[2]), v$x, v$y)
}
# missing and infinite values: the sizes that count are the finite ones (55 values with
# 8 missing is an exact case)
for (sz in list(c(55, 30), c(30, 55), c(80, 60), c(25, 12))) {
  for (s in c(0, 1)) {
    v <- distinct(sz[1], sz[2], s)
    x <- v$x; y <- v$y
    x[sample(sz[1], 8)] <- NA
    y[sample(sz[2], 6)] <- NA
    add(sprintf("missing_%dx%d_shift%+.1f", sz[1], sz[2], s), x, y)
    x[which(!is.na(x))[1:2]] <- c(Inf, -Inf)
    y[which(!is.na(y))[1]] <- Inf
    add(sprintf("missing_inf_%dx%d_shift%+.1f", sz[1], sz[2], s), x, y)
  }
}
# unequal sizes
for (sz in list(c(100, 5), c(5, 100), c(200, 12), c(2, 49), c(49, 2), c(300, 3))) {
  for (s in c(0, 1.5)) {
    v <- distinct(sz[1], sz[2], s)
    add(sprintf("unequal_%dx%d_shift%+.1f", sz[1], sz[2], s), v$x, v$y)
  }
}
# extreme separation: p about 1e-28 (exact), 1e-30 and 1e-99 (normal), and beyond
# double range (R returns 0; the values are ranks, so the file stays small)
add("extreme_exact_49x49", 50:98, 1:49)
add("extreme_exact_49x49_down", 1:49, 50:98)
add("extreme_normal_95x95", 96:190, 1:95)
add("extreme_normal_100x100_down", 1:100, 101:200)
add("extreme_normal_300x300", 301:600, 1:300)
add("extreme_normal_1000x1000", 1001:2000, 1:1000)
# nearly separated, with ties
add("extreme_ties_150x60", c(rep(5, 50), 6:105), c(1:59, 5))
# HL versus R's uniroot estimate: coarse values (wide steps of the statistic)
for (k in 1:6) {
  add(sprintf("coarse_%d", k), round(rnorm(70, mean = 0.3), 1), round(rnorm(40), 1))
}
# no result: all values tied
add("tied_all", rep(3, 12), rep(3, 7))

args_all <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
out <- file.path(dirname(normalizePath(script)), "wilcoxon_reference.tsv")
write_cases(ids, lapply(xs, parse_vec), lapply(ys, parse_vec), out)
