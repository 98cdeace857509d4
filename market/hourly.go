package market

// PricePerHour is the price that charges at least perHour (in the
// token's smallest unit) for an hour of one GPU or one CPU core: the
// hourly figure divided by 3600 and rounded up, so an owner's price
// floor per hour is never undercut.
func PricePerHour(perHour uint64) Price {
	per := perHour/3600 + min(perHour%3600, 1)
	return Price{PerGPUSecond: per, PerCPUSecond: per}
}
