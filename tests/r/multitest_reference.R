# Reference q-values of R's p.adjust(p, method = "BH") for tests/test_multitest.py.
#
#   Rscript tests/r/multitest_reference.R
#       regenerates tests/r/multitest_reference.tsv (seeded cases made here);
#   Rscript tests/r/multitest_reference.R IN.tsv OUT.tsv
#       reads cases (columns case, p) from IN.tsv and writes OUT.tsv (used by the live
#       test, which makes fresh random cases in Python).
#
# p: comma-separated p-values, NA for "not a test" (p.adjust drops NA from m and
# returns NA). Output columns: case, p, q (comma-separated, printed with 15 significant
# digits where that reads back as the same double, else 17).

# shortest of 15 or 17 significant digits that reads back as the same double
fmt_num <- function(v) {
  s15 <- sprintf("%.15g", v)
  same <- suppressWarnings(as.numeric(s15)) == v
  ifelse(is.na(v), "NA", ifelse(same, s15, sprintf("%.17g", v)))
}
fmt_vec <- function(v) paste(fmt_num(v), collapse = ",")
parse_vec <- function(s) suppressWarnings(as.numeric(strsplit(s, ",", fixed = TRUE)[[1]]))

write_cases <- function(ids, ps, path) {
  qs <- lapply(ps, p.adjust, method = "BH")
  lines <- c(paste("case", "p", "q", sep = "\t"),
             paste(ids, vapply(ps, fmt_vec, ""), vapply(qs, fmt_vec, ""), sep = "\t"))
  writeLines(lines, path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {
  d <- read.delim(args[1], colClasses = "character")
  write_cases(d$case, lapply(d$p, parse_vec), args[2])
  quit(save = "no")
}
if (length(args) != 0) stop("usage: multitest_reference.R [IN.tsv OUT.tsv]")

set.seed(20261127)
ids <- character(0); ps <- list()
add <- function(id, p) {
  ids[[length(ids) + 1]] <<- id
  ps[[length(ps) + 1]] <<- p
}
# a mixture of null p-values and signals spanning many decades
mixed <- function(m, frac_signal) {
  p <- runif(m)
  s <- runif(m) < frac_signal
  p[s] <- 10^(-runif(sum(s), 0, 300))
  p
}
for (m in c(1, 2, 3, 10, 100, 300)) {
  for (frac in c(0, 0.1, 0.5)) {
    p <- signif(mixed(m, frac), 8)
    add(sprintf("mixed_m%d_f%.1f", m, frac), p)
    add(sprintf("ties_m%d_f%.1f", m, frac), signif(p, 1))
    q <- p
    q[runif(m) < 0.2] <- NA
    add(sprintf("na_m%d_f%.1f", m, frac), q)
  }
}
add("mixed_m1000_f0.2", signif(mixed(1000, 0.2), 6))
add("ties_m1000_f0.2", signif(mixed(1000, 0.2), 1))
add("ones", c(1, 1, 0.5, 1, 0.04, 1))
add("all_equal", rep(0.03, 7))
add("all_na_but_one", c(NA, NA, 0.2, NA))
add("tiny", c(1e-300, 2e-300, 1e-300, 1e-200, 0.5, 1e-250))
add("steps", c(0.01, 0.02, 0.03, 0.04, 0.05, 0.5, 0.011, 0.021))
args_all <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
out <- file.path(dirname(normalizePath(script)), "multitest_reference.tsv")
write_cases(ids, ps, out)
