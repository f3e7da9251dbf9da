"""Plan expansion: plan x meter type x profile -> concrete steps."""
