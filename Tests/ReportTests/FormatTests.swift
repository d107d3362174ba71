// Number formatting of the report: mean ± sd to the sd's two significant digits, signed deltas, percentages.
import Testing
@testable import Report

@Suite struct FormatTests {
    @Test func meanAndSdShareTheSdsSecondSignificantDigit() {
        #expect(NumberFormat.meanSD(1102.3, 11.8302) == "1102 ± 12")
        #expect(NumberFormat.meanSD(0.72, 0.0282842712) == "0.720 ± 0.028")
        #expect(NumberFormat.meanSD(72.0, 2.828) == "72.0 ± 2.8")
        #expect(NumberFormat.meanSD(85.04, 0.0049) == "85.0400 ± 0.0049")
        #expect(NumberFormat.meanSD(36, 0) == "36 ± 0")
        // One seed: no sd; integers stay integers, others get four significant digits.
        #expect(NumberFormat.meanSD(680144, nil) == "680144")
        #expect(NumberFormat.meanSD(0.85, nil) == "0.8500")
        #expect(NumberFormat.meanSD(2.7253, nil) == "2.725")
    }

    @Test func deltasNeverReadPlusZero() {
        #expect(NumberFormat.signed(1.26, places: 1) == "+1.3")
        #expect(NumberFormat.signed(-0.44, places: 1) == "-0.4")
        #expect(NumberFormat.signed(0, places: 1) == "0.0")
        #expect(NumberFormat.signed(0.04, places: 1) == "0.0")
        #expect(NumberFormat.signed(-0.04, places: 1) == "0.0")
        #expect(NumberFormat.percent(-0.64) == "-64.0%")
        #expect(NumberFormat.percent(0.031) == "+3.1%")
        #expect(NumberFormat.percent(-0.0001) == "0.0%")
    }
}

extension FormatTests {
    @Test func equalValuesOverSeedsShowNoSpread() {
        #expect(NumberFormat.meanSD(58.00000000000001, 7e-15) == "58 ± 0")
        #expect(NumberFormat.meanSD(0.00036, 0) == "0.000360 ± 0")  // at most 6 decimals
        #expect(NumberFormat.meanSD(2.655, 0) == "2.655 ± 0")
    }
}
