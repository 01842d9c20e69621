# Reference results of R's wilcox.test(x, y, paired = TRUE, conf.int = TRUE) for
# tests/unit/kernels/test_signed_rank.py.
#
#   Rscript tests/r/signed_rank_reference.R
#       regenerates tests/r/signed_rank_reference.tsv (seeded cases made here);
#   Rscript tests/r/signed_rank_reference.R IN.tsv OUT.tsv
#       reads cases (columns case, tumor, normal) from IN.tsv and writes OUT.tsv (used
#       by the live test, which makes fresh random cases in Python).
#
# tumor and normal are comma-separated numbers of the same length (pair k = element k
# of both): NA for missing, Inf / -Inf allowed. Pairs with a non-finite value are
# dropped before calling wilcox.test, as STATS.md says: R's wilcox.test itself drops
# only pairs with an NA (complete.cases) and ranks +-Inf differences. The seeded cases
# are rounded to a few decimals and written as R prints them (15 significant digits,
# which reproduces them exactly), then read back from that text before testing, so R
# works on exactly the numbers stored.
# Output columns: case, tumor, normal, n_pairs (pairs with both values finite),
# n_nonzero (nonzero differences among them), exact (TRUE when R used the exact
# distribution), V (R's statistic), p (two-sided p.value), estimate (R's conf.int
# estimate: the median of the Walsh averages in the exact case, a uniroot() root in the
# normal case; NA if R fails to give one) and walsh (the median of the Walsh averages
# (d_i + d_j) / 2, i <= j, of the nonzero differences, computed here as R's exact case
# does). Numbers are printed with 17 significant digits; NA where R gives none (no
# nonzero difference).

fmt_num <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
fmt_in <- function(v) paste(ifelse(is.na(v), "NA", as.character(v)), collapse = ",")
parse_vec <- function(s) suppressWarnings(as.numeric(strsplit(s, ",", fixed = TRUE)[[1]]))

walsh_median <- function(d) {
  s <- outer(d, d, "+")
  median(sort(s[!lower.tri(s)]) / 2)
}

one_case <- function(x, y) {
  ok <- is.finite(x) & is.finite(y)
  d <- x[ok] - y[ok]
  nz <- d[d != 0]
  out <- c(sum(ok), length(nz), NA, NA, NA, NA, NA)
  if (length(nz) < 1) return(out)  # no nonzero difference: R gives p NaN
  wt <- suppressWarnings(wilcox.test(x[ok], y[ok], paired = TRUE, conf.int = TRUE))
  exact <- grepl("exact", wt$method, fixed = TRUE)
  # R's normal-case estimate comes from uniroot(), which can fail on degenerate data
  est <- tryCatch(unname(wt$estimate), error = function(e) NA)
  c(sum(ok), length(nz), exact, unname(wt$statistic), wt$p.value, est, walsh_median(nz))
}

write_cases <- function(ids, xs, ys, path) {
  res <- t(mapply(one_case, xs, ys))
  lines <- c(
    paste("case", "tumor", "normal", "n_pairs", "n_nonzero", "exact", "V", "p",
          "estimate", "walsh", sep = "\t"),
    paste(ids, vapply(xs, fmt_in, ""), vapply(ys, fmt_in, ""), res[, 1], res[, 2],
          ifelse(is.na(res[, 3]), "NA", ifelse(res[, 3] == 1, "TRUE", "FALSE")),
          fmt_num(res[, 4]), fmt_num(res[, 5]), fmt_num(res[, 6]), fmt_num(res[, 7]),
          sep = "\t"))
  writeLines(lines, path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {
  d <- read.delim(args[1], colClasses = "character")
  write_cases(d$case, lapply(d$tumor, parse_vec), lapply(d$normal, parse_vec), args[2])
  quit(save = "no")
}
if (length(args) != 0) stop("usage: signed_rank_reference.R [IN.tsv OUT.tsv]")

set.seed(20261126)
ids <- character(0); xs <- character(0); ys <- character(0)
add <- function(id, x, y) {
  stopifnot(length(x) == length(y))
  ids[[length(ids) + 1]] <<- id
  xs[[length(xs) + 1]] <<- fmt_in(x)
  ys[[length(ys) + 1]] <<- fmt_in(y)
}
# continuous pairs whose differences have distinct nonzero magnitudes (4 decimals,
# redrawn until so): correlated tumor and normal, tumor shifted
distinct <- function(n, shift, digits = 4) {
  repeat {
    base <- rnorm(n)
    x <- round(base + rnorm(n, mean = shift, sd = 0.7), digits)
    y <- round(base + rnorm(n, sd = 0.3), digits)
    x <- as.numeric(as.character(x)); y <- as.numeric(as.character(y))
    d <- x - y
    if (all(d != 0) && !anyDuplicated(abs(d))) return(list(x = x, y = y))
  }
}
shifts <- c(0, 0.3, -0.8, 2)
# exact: fewer than 50 pairs, no ties, no zeros
for (n in c(1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 49)) {
  for (s in shifts) {
    v <- distinct(n, s)
    add(sprintf("exact_n%d_shift%+.1f", n, s), v$x, v$y)
  }
}
# normal approximation: 50 or more nonzero differences (no ties)
for (n in c(50, 51, 60, 100, 200)) {
  for (s in shifts) {
    v <- distinct(n, s)
    add(sprintf("normal_n%d_shift%+.1f", n, s), v$x, v$y)
  }
}
# ties among |d| (normal approximation although n < 50), also across signs
for (n in c(6, 12, 30, 80, 150)) {
  for (s in c(0, 0.7, -2)) {
    base <- round(2 * rnorm(n))
    add(sprintf("ties_n%d_shift%+.1f", n, s), base + round(2 * rnorm(n, mean = s)), base)
  }
  # one tie (dyadic values, so that the differences are exactly 0.25 / -0.25)
  v <- distinct(n, 0.3)
  v$x[1:2] <- c(1.25, 2.25); v$y[1:2] <- c(1, 2)  # d_2 == d_1
  add(sprintf("ties_one_n%d", n), v$x, v$y)
  v <- distinct(n, 0.3)
  v$x[1:2] <- c(1.25, 1.75); v$y[1:2] <- c(1, 2)  # d_2 == -d_1: tied |d|, both signs
  add(sprintf("ties_opposite_n%d", n), v$x, v$y)
}
# zero differences (dropped; then never exact)
for (n in c(10, 12, 25, 49, 60, 120)) {
  v <- distinct(n, 0.4)
  k <- max(1, n %/% 5)
  v$y[1:k] <- v$x[1:k]
  add(sprintf("zeros_n%d_%d", n, k), v$x, v$y)
}
v <- distinct(20, 0.5); v$y[7] <- v$x[7]
add("zeros_one_n20", v$x, v$y)
add("zeros_all_but_one", c(3, rep(1.5, 14)), c(2.25, rep(1.5, 14)))
add("zeros_all_but_two_tied", c(3, 0, rep(1.5, 13)), c(2, 1, rep(1.5, 13)))
add("zeros_rnaseq", ifelse(runif(40) < 0.5, 0, round(abs(rnorm(40, 1)), 2)),
    ifelse(runif(40) < 0.5, 0, round(abs(rnorm(40)), 2)))
# no result: every difference zero
v <- round(rnorm(15), 3)
add("allzero_n15", v, v)
add("allzero_n60", rep(0, 60), rep(-0, 60))
# missing and infinite values: only pairs with both values finite count (55 pairs with
# 8 missing leave 47: exact)
for (n in c(55, 30, 80)) {
  for (s in c(0, 1)) {
    v <- distinct(n, s)
    x <- v$x; y <- v$y
    x[sample(n, 4)] <- NA
    y[sample(n, 4)] <- NA
    add(sprintf("missing_n%d_shift%+.1f", n, s), x, y)
    x[which(!is.na(x) & !is.na(y))[1:2]] <- c(Inf, -Inf)
    y[which(!is.na(x) & !is.na(y) & is.finite(x))[1]] <- Inf
    add(sprintf("missing_inf_n%d_shift%+.1f", n, s), x, y)
  }
}
add("missing_all", rep(NA, 12), rnorm(12))
# one-sided extremes: every difference positive (or negative); the smallest exact p
# 2^-48, normal p about 1e-11, 1e-165 and beyond double range (R returns 0; the values
# are integers, so the file stays small)
add("extreme_exact_n49_up", 1:49 + 0.5, rep(0, 49))
add("extreme_exact_n49_down", rep(0, 49), 1:49 + 0.5)
add("extreme_exact_n10_up", 1:10, rep(0, 10))
add("extreme_normal_n60_up", 1:60, rep(0, 60))
add("extreme_normal_n60_down", rep(0, 60), 1:60)
add("extreme_normal_n1000_up", 1:1000, rep(0, 1000))
add("extreme_normal_n3000_up", 1:3000, rep(0, 3000))
add("extreme_ties_n200_up", rep(1, 200), rep(0, 200))
# p == 1: V at the centre of its distribution
add("centre_exact_n3", c(1, -2, 3), c(0, 0, 0))
add("centre_exact_n4", c(1, -2, -3, 4), c(0, 0, 0, 0))
# n = 10 boundary (min_pairs): 9, 10 and 11 pairs, and 12 pairs of which 2 are missing
for (n in 9:11) {
  v <- distinct(n, 1)
  add(sprintf("boundary10_n%d", n), v$x, v$y)
}
v <- distinct(12, 1); v$x[3] <- NA; v$y[8] <- NaN
add("boundary10_missing_n12", v$x, v$y)
v <- distinct(10, 1); v$y[4] <- v$x[4]
add("boundary10_zero_n10", v$x, v$y)
# 49 / 50 boundary of the exact distribution
for (s in c(0, 0.5)) {
  v <- distinct(49, s); add(sprintf("boundary50_n49_shift%+.1f", s), v$x, v$y)
  v <- distinct(50, s); add(sprintf("boundary50_n50_shift%+.1f", s), v$x, v$y)
  v <- distinct(50, s); v$y[5] <- v$x[5]
  add(sprintf("boundary50_n50_zero_shift%+.1f", s), v$x, v$y)
  v <- distinct(52, s); v$x[c(3, 9)] <- NA; v$y[20] <- NA
  add(sprintf("boundary50_n52_missing_shift%+.1f", s), v$x, v$y)
}
# Walsh median versus R's uniroot estimate: coarse values (wide steps of the statistic)
for (k in 1:6) {
  base <- round(rnorm(70), 1)
  add(sprintf("coarse_%d", k), base + round(rnorm(70, mean = 0.2), 1), base)
}

args_all <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
out <- file.path(dirname(normalizePath(script)), "signed_rank_reference.tsv")
write_cases(ids, lapply(xs, parse_vec), lapply(ys, parse_vec), out)
