# Reference values for tests/test_groups.py: the Jonckheere-Terpstra test as the
# reference computes it, and R's one-way ANOVA.
#
#   Rscript tests/r/groups_reference.R
#       regenerates tests/r/groups_reference.tsv (seeded cases made here);
#   Rscript tests/r/groups_reference.R IN.tsv OUT.tsv
#       reads cases (columns case, x, g) from IN.tsv and writes OUT.tsv (used by the
#       live test, which makes fresh random cases in Python).
#
# x: comma-separated numbers, NA for missing; g: comma-separated integer level codes in
# the declared order, NA for a missing label. Samples with x or g missing are dropped.
#
# JT: the LinkedOmicsKB reference (bzhanglab/LinkedOmicsKB_manuscript, source_func.R)
# calls its copy of SAGx's JT.test(data, class, alternative = "two-sided") with the
# default ties = FALSE. jt_sagx() below re-implements that formula for one vector:
#   U  = sum over level pairs i < j of the Mann-Whitney rank-sum statistic of level i
#        against level j, sum(rank(c(x_i, x_j))[x_i]) - n_i (n_i + 1) / 2 (average ranks,
#        so a tie counts 1/2; U counts level-i values *exceeding* level-j values);
#   EH = (N^2 - sum n_i^2) / 4;  STDH = sqrt((N^2 (2N + 3) - sum n_i^2 (2 n_i + 3)) / 72)
#        (no tie correction, no continuity correction);
#   ps = pnorm((EH - U) / STDH);  p = 2 * pmin(ps, 1 - ps);
#   effect = cor(rank(x), rank(class)) (the reference's "rank correlation").
# The textbook statistic J (level-j values exceeding level-i values) is
# sum_{i<j} n_i n_j - U, so z = (EH - U) / STDH = (J - EH) / STDH.
#
# Output columns: case, x, g, n (samples used), k (levels with samples), U, z,
# p_sagx (SAGx's 2 * pmin(ps, 1 - ps), which cancels to 0 for increasing trends with
# p below ~1e-16), p_jt (2 * pnorm(-abs(z)), the same p without that cancellation),
# rho, F and p_F (anova(lm(x ~ factor(g)))). NA where there is no result: fewer than 2
# levels, or x constant (JT and ANOVA), or x constant within every level (ANOVA).
# Numbers are printed with 15 significant digits where that reads back as the same
# double, else 17.

# shortest of 15 or 17 significant digits that reads back as the same double
fmt_num <- function(v) {
  s15 <- sprintf("%.15g", v)
  same <- suppressWarnings(as.numeric(s15)) == v
  ifelse(is.na(v), "NA", ifelse(same, s15, sprintf("%.17g", v)))
}
fmt_vec <- function(v) paste(fmt_num(v), collapse = ",")
parse_vec <- function(s) suppressWarnings(as.numeric(strsplit(s, ",", fixed = TRUE)[[1]]))

jt_sagx <- function(x, g) {
  lv <- sort(unique(g))
  n_i <- as.numeric(table(factor(g, levels = lv)))
  N <- length(x)
  U <- 0
  for (a in seq_len(length(lv) - 1)) {
    for (b in seq(a + 1, length(lv))) {
      xa <- x[g == lv[a]]
      xb <- x[g == lv[b]]
      r <- rank(c(xa, xb))
      U <- U + sum(r[seq_along(xa)]) - length(xa) * (length(xa) + 1) / 2
    }
  }
  EH <- (N^2 - sum(n_i^2)) / 4
  STDH <- sqrt((N^2 * (2 * N + 3) - sum(n_i^2 * (2 * n_i + 3))) / 72)
  z <- (EH - U) / STDH
  ps <- pnorm(z)
  c(U = U, z = z, p_sagx = 2 * pmin(ps, 1 - ps), p_jt = 2 * pnorm(-abs(z)),
    rho = cor(rank(x), rank(g)))
}

one_case <- function(x, g) {
  ok <- !is.na(x) & is.finite(x) & !is.na(g)
  x <- x[ok]
  g <- g[ok]
  n <- length(x)
  k <- length(unique(g))
  jt <- c(U = NA, z = NA, p_sagx = NA, p_jt = NA, rho = NA)
  av <- c(NA, NA)
  if (k >= 2 && n > 2 && var(x) > 0) {
    jt <- jt_sagx(x, g)
    within_const <- all(tapply(x, g, function(v) all(v == v[1])))
    if (!within_const) {
      a <- anova(lm(x ~ factor(g)))
      av <- c(a$`F value`[1], a$`Pr(>F)`[1])
    }
  }
  c(n, k, jt, av)
}

write_cases <- function(ids, xs, gs, path) {
  res <- t(mapply(one_case, xs, gs))
  lines <- c(
    paste("case", "x", "g", "n", "k", "U", "z", "p_sagx", "p_jt", "rho", "F", "p_F",
          sep = "\t"),
    paste(ids, vapply(xs, fmt_vec, ""), vapply(gs, fmt_vec, ""), res[, 1], res[, 2],
          fmt_num(res[, 3]), fmt_num(res[, 4]), fmt_num(res[, 5]), fmt_num(res[, 6]),
          fmt_num(res[, 7]), fmt_num(res[, 8]), fmt_num(res[, 9]), sep = "\t"))
  writeLines(lines, path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {
  d <- read.delim(args[1], colClasses = "character")
  write_cases(d$case, lapply(d$x, parse_vec), lapply(d$g, parse_vec), args[2])
  quit(save = "no")
}
if (length(args) != 0) stop("usage: groups_reference.R [IN.tsv OUT.tsv]")

set.seed(20261126)
ids <- character(0); xs <- list(); gs <- list()
add <- function(id, x, g) {
  ids[[length(ids) + 1]] <<- id
  xs[[length(xs) + 1]] <<- x
  gs[[length(gs) + 1]] <<- g
}
# values are stored as integers (x 1000) to keep the file compact; JT and F are
# invariant to the scale
grouped <- function(n, k, shift, probs = rep(1, k)) {
  g <- sample(0:(k - 1), n, replace = TRUE, prob = probs)
  list(x = round(1000 * (rnorm(n) + shift * g)), g = g)
}
for (n in c(20, 35, 60, 150, 400)) {
  for (k in if (n < 400) c(2, 3, 4, 6) else c(3, 5)) {
    for (shift in if (n < 400) c(-1.5, -0.4, -0.1, 0, 0.1, 0.4, 1.5) else c(-0.4, 0.1, 1)) {
      v <- grouped(n, k, shift)
      add(sprintf("clean_n%d_k%d_s%+.1f", n, k, shift), v$x, v$g)
      add(sprintf("ties_n%d_k%d_s%+.1f", n, k, shift), round(v$x / 700), v$g)
      x <- v$x; g <- v$g
      x[sample(n, n %/% 10)] <- NA
      g[sample(n, n %/% 12)] <- NA
      add(sprintf("na_n%d_k%d_s%+.1f", n, k, shift), x, g)
    }
    u <- grouped(n, k, 0.3, probs = c(6, rep(1, k - 1)))
    add(sprintf("unbalanced_n%d_k%d", n, k), u$x, u$g)
  }
}
# an unused level code (2 of 0..3 has no sample): it simply drops out
v <- grouped(60, 4, 0.5)
v$g[v$g == 2] <- 3
add("gap_n60_k3", v$x, v$g)
# a single level, constant values, constant within every level (no result)
add("single_level", round(1000 * rnorm(30)), rep(1, 30))
add("constant", rep(7, 30), rep(0:2, 10))
add("within_constant", rep(c(1, 5, 9), 10), rep(0:2, 10))
args_all <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
out <- file.path(dirname(normalizePath(script)), "groups_reference.tsv")
write_cases(ids, xs, gs, out)
