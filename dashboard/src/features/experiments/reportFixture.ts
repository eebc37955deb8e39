// A report as the API answers it (tests only): produced by the backend's own code — src/upswing/experiment/
// analysis.py `analyze` + `analysis_json` on 1,200 simulated leads (10% control per stratum, 9% vs 16% paying within
// 90 days, two signal types), an interim look at 62% of the horizon — wrapped in report.py `as_json`'s header.
// Regenerate by running that code; do not edit by hand.
export const REPORT_JSON: unknown = {
  "experiment": {
    "id": "5b0e6a3c-6f1e-4a57-9d3c-2f1f0f7d9a11",
    "name": "timing-2027",
    "status": "running",
    "as_of": "2027-03-01T12:00:00+00:00"
  },
  "leads": 1200,
  "conversion_days": 90,
  "information_fraction": 0.62,
  "previous_looks": [],
  "alpha": 0.05,
  "alpha_used": 0.0128,
  "interim": true,
  "significance_rule": "Interim look at 62% of the planned information: O'Brien-Fleming-type Lan-DeMets alpha spending, so a result is significant only when p < 0.0128 (not 0.05). The 95% intervals shown are not widened for the interim look.",
  "horizon_statement": "Conversion is a payment within 90 days of assignment. The design has a fixed horizon: the planned analysis comes once the planned leads have 90 days of follow-up; this analysis is an interim look at 62% of it.",
  "notes": [
    "The headline is intention to treat: every assigned lead counts in the arm it was randomised to, whether or not an alert was delivered, so the comparison is protected by the randomisation.",
    "The 2 per-signal-type sections are secondary: with 2 types one may cross the threshold by chance alone."
  ],
  "strata": [
    {
      "stratum": "Spring 2026|20k+",
      "control_n": 30,
      "treatment_n": 270,
      "control_share": 0.1
    },
    {
      "stratum": "Spring 2026|5k-20k",
      "control_n": 30,
      "treatment_n": 270,
      "control_share": 0.1
    },
    {
      "stratum": "Spring 2026|under 5k",
      "control_n": 30,
      "treatment_n": 270,
      "control_share": 0.1
    },
    {
      "stratum": "Spring 2026|unknown",
      "control_n": 30,
      "treatment_n": 270,
      "control_share": 0.1
    }
  ],
  "sections": [
    {
      "section": "all",
      "leads": 1200,
      "still_in_followup": 469,
      "notes": [
        "469 of 1,200 leads are still in follow-up (under 90 days since assignment, no payment yet)."
      ],
      "itt": {
        "block": "itt",
        "label": "Intention to treat (all assigned leads)",
        "significant": false,
        "alpha_used": 0.0128,
        "notes": [
          "Paid within 90 days: 13.52% of treatment leads (146 of 1,080) vs 10.83% of control leads (13 of 120): +2.69 points (95% CI -4.40 to +7.58), a relative lift of +24.8% (95% CI -28.4% to +104.5%), p = 0.411.",
          "Not significant at this interim look (the rule is p < 0.0128 at this interim look): keep the experiment running to the planned horizon; an early look needs far stronger evidence than the final one.",
          "469 leads (48 control, 421 treatment) have had under 90 days of follow-up and no payment yet: they count as not converted, so these rates can still rise.",
          "Recovered per lead: $131.51 treatment vs $111.94 control, difference $19.57 (95% bootstrap CI -$56.14 to $81.68).",
          "Median days to first payment: not reached in either arm (fewer than half of the leads have paid); log-rank test of time to payment p = 0.36."
        ],
        "in_followup": {
          "control": 48,
          "treatment": 421
        },
        "conversion": {
          "control_n": 120,
          "treatment_n": 1080,
          "control_converted": 13,
          "treatment_converted": 146,
          "control_rate": 0.108333,
          "treatment_rate": 0.135185,
          "difference": 0.026852,
          "difference_ci": [-0.043993, 0.075837],
          "relative_lift": 0.2479,
          "relative_lift_ci": [-0.2839, 1.0453],
          "p_value": 0.4107,
          "alpha": 0.05
        },
        "recovered": {
          "control_n": 120,
          "treatment_n": 1080,
          "control_mean": 111.94,
          "treatment_mean": 131.51,
          "difference": 19.57,
          "difference_ci": [-56.14, 81.68],
          "confidence_level": 0.95,
          "resamples": 2000,
          "method": "percentile"
        },
        "time_to_payment": {
          "control_median_days": null,
          "treatment_median_days": null,
          "logrank_statistic": 0.8386,
          "logrank_p_value": 0.3598,
          "control": {
            "n": 120,
            "events": 13,
            "times": [6.125, 17.551, 39.814, 56.1, 59.235, 59.576, 60.368, 62.711, 65.323, 66.552, 72.288, 76.96, 87.695],
            "survival": [0.991667, 0.983333, 0.975, 0.965347, 0.955395, 0.945338, 0.935281, 0.924889, 0.914134, 0.90338, 0.891798, 0.880216, 0.865787],
            "at_risk": [120, 119, 118, 101, 97, 95, 94, 90, 86, 85, 78, 77, 61],
            "max_days": 157.273
          },
          "treatment": {
            "n": 1080,
            "events": 146,
            "times": [1.248, 2.895, 5.037, 5.156, 5.223, 5.811, 6.125, 6.221, 6.396, 6.91, 8.099, 8.175, 8.38, 8.872, 9.218, 9.744, 11.296, 11.998, 12.334, 12.919, 13.041, 13.463, 13.521, 14.933, 14.959, 15.039, 16.057, 17.2, 17.569, 17.759, 17.805, 18.178, 18.672, 18.826, 19.312, 19.767, 20.792, 21.769, 22.656, 23.458, 24.63, 24.815, 24.838, 25.587, 26.505, 26.742, 26.821, 27.283, 27.404, 28.068, 28.09, 32.603, 32.862, 32.998, 33.427, 33.713, 34.034, 34.038, 34.259, 34.957, 35.073, 35.408, 35.919, 36.7, 37.389, 39.048, 39.877, 40.003, 40.474, 40.578, 42.881, 43.49, 44.119, 44.13, 44.463, 44.582, 44.772, 45.36, 45.616, 46.103, 46.211, 48.052, 48.265, 48.319, 48.483, 49.311, 50.249, 50.512, 50.732, 51.598, 52.069, 53.44, 54.829, 55.012, 55.347, 55.692, 56.414, 56.663, 56.759, 57.028, 58.578, 58.715, 58.945, 60.594, 60.702, 60.725, 61.545, 61.678, 62.212, 62.229, 62.744, 63.046, 63.627, 63.807, 64.829, 65.002, 65.234, 66.049, 67.107, 67.203, 67.916, 68.088, 68.322, 69.609, 70.07, 70.907, 70.992, 71.067, 71.276, 71.926, 73.747, 73.833, 74.766, 74.901, 75.189, 76.278, 77.144, 78.195, 78.896, 80.405, 80.476, 81.955, 83.037, 83.25, 86.289, 86.938],
            "survival": [0.999074, 0.998148, 0.997222, 0.996296, 0.99537, 0.994444, 0.993519, 0.992593, 0.991667, 0.990741, 0.989815, 0.988889, 0.987963, 0.987037, 0.986111, 0.985185, 0.984259, 0.983333, 0.982407, 0.981481, 0.980556, 0.97963, 0.978704, 0.977778, 0.976852, 0.975926, 0.975, 0.974074, 0.973148, 0.972222, 0.971296, 0.97037, 0.969444, 0.968519, 0.967593, 0.966667, 0.965741, 0.964815, 0.963889, 0.962963, 0.962037, 0.961111, 0.960185, 0.959259, 0.958333, 0.957407, 0.956481, 0.955556, 0.95463, 0.953704, 0.952778, 0.951852, 0.950926, 0.95, 0.949074, 0.948148, 0.947222, 0.946296, 0.94537, 0.944444, 0.943519, 0.942593, 0.941667, 0.940741, 0.939815, 0.938889, 0.937963, 0.937037, 0.936106, 0.935172, 0.934222, 0.933268, 0.932305, 0.931341, 0.930378, 0.929415, 0.928452, 0.927481, 0.926507, 0.925527, 0.924546, 0.923539, 0.922529, 0.921518, 0.920506, 0.919489, 0.918459, 0.917423, 0.916385, 0.915339, 0.914284, 0.913221, 0.912142, 0.911061, 0.909978, 0.908889, 0.907793, 0.906694, 0.905595, 0.904492, 0.903361, 0.90223, 0.901097, 0.899952, 0.898807, 0.897662, 0.896507, 0.895352, 0.894192, 0.893032, 0.891863, 0.890693, 0.889519, 0.888343, 0.887156, 0.88597, 0.884778, 0.883574, 0.882356, 0.881133, 0.879901, 0.878669, 0.877429, 0.876169, 0.874904, 0.873627, 0.872348, 0.871069, 0.86978, 0.868482, 0.867158, 0.865832, 0.864488, 0.863141, 0.861791, 0.860421, 0.859035, 0.85764, 0.856232, 0.854796, 0.853359, 0.851893, 0.850409, 0.848919, 0.847359, 0.845784],
            "at_risk": [1080, 1079, 1078, 1077, 1076, 1075, 1074, 1073, 1072, 1071, 1070, 1069, 1068, 1067, 1066, 1065, 1064, 1063, 1062, 1061, 1060, 1059, 1058, 1057, 1056, 1055, 1054, 1053, 1052, 1051, 1050, 1049, 1048, 1047, 1046, 1045, 1044, 1043, 1042, 1041, 1040, 1039, 1038, 1037, 1036, 1035, 1034, 1033, 1032, 1031, 1030, 1029, 1028, 1027, 1026, 1025, 1024, 1023, 1022, 1021, 1020, 1019, 1018, 1017, 1016, 1015, 1014, 1013, 1006, 1003, 984, 979, 969, 968, 967, 966, 965, 956, 952, 946, 943, 918, 915, 912, 911, 905, 893, 886, 884, 876, 868, 860, 846, 844, 841, 836, 829, 826, 825, 821, 800, 799, 796, 787, 786, 785, 777, 776, 772, 771, 764, 762, 759, 756, 749, 748, 743, 735, 725, 722, 715, 714, 709, 696, 693, 685, 683, 682, 676, 670, 656, 654, 644, 642, 639, 629, 621, 616, 609, 596, 595, 582, 574, 571, 544, 538],
            "max_days": 159.94
          }
        }
      },
      "per_protocol": {
        "block": "per_protocol",
        "label": "Per protocol (control vs treatment leads whose alert was delivered)",
        "significant": false,
        "alpha_used": 0.0128,
        "notes": [
          "Paid within 90 days: 11.76% of treatment leads (75 of 638) vs 10.83% of control leads (13 of 120): +0.92 points (95% CI -6.27 to +6.09), a relative lift of +8.5% (95% CI -38.8% to +82.1%), p = 0.772.",
          "Per-protocol: control vs the 638 of 1,080 treatment leads (59%) whose alert was delivered. Delivery is not randomised (leads whose alert got through can differ from the rest), so this is a sensitivity check, not the causal effect; the intention-to-treat block is.",
          "Not significant at this interim look (the rule is p < 0.0128 at this interim look): keep the experiment running to the planned horizon; an early look needs far stronger evidence than the final one.",
          "303 leads (48 control, 255 treatment) have had under 90 days of follow-up and no payment yet: they count as not converted, so these rates can still rise.",
          "Recovered per lead: $112.02 treatment vs $111.94 control, difference $0.08 (95% bootstrap CI -$75.29 to $65.24).",
          "Median days to first payment: not reached in either arm (fewer than half of the leads have paid); log-rank test of time to payment p = 0.715."
        ],
        "in_followup": {
          "control": 48,
          "treatment": 255
        },
        "conversion": {
          "control_n": 120,
          "treatment_n": 638,
          "control_converted": 13,
          "treatment_converted": 75,
          "control_rate": 0.108333,
          "treatment_rate": 0.117555,
          "difference": 0.009222,
          "difference_ci": [-0.062687, 0.060942],
          "relative_lift": 0.0851,
          "relative_lift_ci": [-0.3883, 0.8211],
          "p_value": 0.7725,
          "alpha": 0.05
        },
        "recovered": {
          "control_n": 120,
          "treatment_n": 638,
          "control_mean": 111.94,
          "treatment_mean": 112.02,
          "difference": 0.08,
          "difference_ci": [-75.29, 65.24],
          "confidence_level": 0.95,
          "resamples": 2000,
          "method": "percentile"
        },
        "time_to_payment": {
          "control_median_days": null,
          "treatment_median_days": null,
          "logrank_statistic": 0.133,
          "logrank_p_value": 0.7153,
          "control": {
            "n": 120,
            "events": 13,
            "times": [6.125, 17.551, 39.814, 56.1, 59.235, 59.576, 60.368, 62.711, 65.323, 66.552, 72.288, 76.96, 87.695],
            "survival": [0.991667, 0.983333, 0.975, 0.965347, 0.955395, 0.945338, 0.935281, 0.924889, 0.914134, 0.90338, 0.891798, 0.880216, 0.865787],
            "at_risk": [120, 119, 118, 101, 97, 95, 94, 90, 86, 85, 78, 77, 61],
            "max_days": 157.273
          },
          "treatment": {
            "n": 638,
            "events": 75,
            "times": [5.037, 6.221, 8.099, 8.175, 8.38, 9.218, 11.998, 12.334, 12.919, 14.959, 16.057, 17.569, 17.759, 17.805, 18.178, 19.312, 22.656, 23.458, 24.63, 24.815, 25.587, 26.505, 26.742, 27.283, 28.068, 32.603, 32.862, 33.427, 34.259, 34.957, 35.073, 35.919, 44.119, 44.582, 44.772, 46.103, 48.319, 49.311, 50.249, 50.512, 50.732, 51.598, 52.069, 55.347, 56.663, 56.759, 58.578, 58.715, 58.945, 60.702, 60.725, 62.229, 62.744, 63.046, 65.234, 66.049, 67.107, 67.203, 67.916, 68.322, 70.07, 70.907, 70.992, 71.276, 73.747, 73.833, 74.766, 74.901, 76.278, 77.144, 78.195, 78.896, 80.405, 83.037, 83.25],
            "survival": [0.998433, 0.996865, 0.995298, 0.99373, 0.992163, 0.990596, 0.989028, 0.987461, 0.985893, 0.984326, 0.982759, 0.981191, 0.979624, 0.978056, 0.976489, 0.974922, 0.973354, 0.971787, 0.970219, 0.968652, 0.967085, 0.965517, 0.96395, 0.962382, 0.960815, 0.959248, 0.95768, 0.956113, 0.954545, 0.952978, 0.951411, 0.949843, 0.948217, 0.94659, 0.944964, 0.943309, 0.941609, 0.9399, 0.938169, 0.936429, 0.934688, 0.932948, 0.931187, 0.929372, 0.927525, 0.925677, 0.923784, 0.921891, 0.919994, 0.918077, 0.916161, 0.914212, 0.912237, 0.910258, 0.908253, 0.90623, 0.904185, 0.902134, 0.90006, 0.897972, 0.895834, 0.893665, 0.891496, 0.889306, 0.887043, 0.88478, 0.882488, 0.88019, 0.877855, 0.875501, 0.873135, 0.870736, 0.868284, 0.865737, 0.863176],
            "at_risk": [638, 637, 636, 635, 634, 633, 632, 631, 630, 629, 628, 627, 626, 625, 624, 623, 622, 621, 620, 619, 618, 617, 616, 615, 614, 613, 612, 611, 610, 609, 608, 607, 584, 583, 582, 571, 555, 551, 543, 539, 538, 537, 530, 513, 503, 502, 489, 488, 486, 480, 479, 470, 463, 461, 454, 449, 443, 441, 435, 431, 420, 413, 412, 407, 393, 392, 386, 384, 377, 373, 370, 364, 355, 341, 338],
            "max_days": 159.94
          }
        }
      }
    },
    {
      "section": "new_employment",
      "leads": 715,
      "still_in_followup": 275,
      "notes": [
        "275 of 715 leads are still in follow-up (under 90 days since assignment, no payment yet).",
        "Leads that had this signal type; a lead with several types is in each of their sections."
      ],
      "itt": {
        "block": "itt",
        "label": "Intention to treat (all assigned leads)",
        "significant": false,
        "alpha_used": 0.0128,
        "notes": [
          "Paid within 90 days: 12.98% of treatment leads (84 of 647) vs 8.82% of control leads (6 of 68): +4.16 points (95% CI -5.26 to +9.65), a relative lift of +47.1% (95% CI -35.5% to +193.5%), p = 0.326.",
          "Not significant at this interim look (the rule is p < 0.0128 at this interim look): keep the experiment running to the planned horizon; an early look needs far stronger evidence than the final one.",
          "Fewer than 10 conversions in an arm: the intervals are wide and approximate.",
          "275 leads (25 control, 250 treatment) have had under 90 days of follow-up and no payment yet: they count as not converted, so these rates can still rise.",
          "Recovered per lead: $122.88 treatment vs $87.22 control, difference $35.66 (95% bootstrap CI -$55.19 to $107.75).",
          "Median days to first payment: not reached in either arm (fewer than half of the leads have paid); log-rank test of time to payment p = 0.3."
        ],
        "in_followup": {
          "control": 25,
          "treatment": 250
        },
        "conversion": {
          "control_n": 68,
          "treatment_n": 647,
          "control_converted": 6,
          "treatment_converted": 84,
          "control_rate": 0.088235,
          "treatment_rate": 0.12983,
          "difference": 0.041595,
          "difference_ci": [-0.052644, 0.096498],
          "relative_lift": 0.4714,
          "relative_lift_ci": [-0.3555, 1.9346],
          "p_value": 0.3256,
          "alpha": 0.05
        },
        "recovered": {
          "control_n": 68,
          "treatment_n": 647,
          "control_mean": 87.22,
          "treatment_mean": 122.88,
          "difference": 35.66,
          "difference_ci": [-55.19, 107.75],
          "confidence_level": 0.95,
          "resamples": 2000,
          "method": "percentile"
        },
        "time_to_payment": {
          "control_median_days": null,
          "treatment_median_days": null,
          "logrank_statistic": 1.0735,
          "logrank_p_value": 0.3002,
          "control": {
            "n": 68,
            "events": 6,
            "times": [17.551, 39.814, 59.576, 60.368, 62.711, 76.96],
            "survival": [0.985294, 0.970588, 0.953854, 0.93712, 0.919438, 0.899006],
            "at_risk": [68, 67, 58, 57, 53, 45],
            "max_days": 157.273
          },
          "treatment": {
            "n": 647,
            "events": 84,
            "times": [2.895, 5.037, 6.221, 8.099, 8.175, 8.38, 11.998, 12.334, 12.919, 13.521, 14.933, 16.057, 17.759, 18.178, 19.312, 22.656, 23.458, 24.63, 24.815, 24.838, 25.587, 26.505, 26.742, 26.821, 27.283, 28.068, 32.603, 32.862, 32.998, 33.427, 34.259, 34.957, 35.073, 35.919, 37.389, 39.048, 39.877, 40.003, 44.119, 44.463, 44.582, 44.772, 46.103, 49.311, 50.249, 50.512, 50.732, 51.598, 52.069, 53.44, 55.347, 56.414, 56.663, 56.759, 58.578, 58.715, 58.945, 60.702, 62.229, 63.046, 65.002, 65.234, 66.049, 67.107, 67.203, 67.916, 68.088, 69.609, 70.07, 70.907, 70.992, 71.276, 73.747, 73.833, 74.766, 76.278, 77.144, 78.195, 80.405, 80.476, 83.037, 83.25, 86.289, 86.938],
            "survival": [0.998454, 0.996909, 0.995363, 0.993818, 0.992272, 0.990726, 0.989181, 0.987635, 0.98609, 0.984544, 0.982998, 0.981453, 0.979907, 0.978362, 0.976816, 0.97527, 0.973725, 0.972179, 0.970634, 0.969088, 0.967543, 0.965997, 0.964451, 0.962906, 0.96136, 0.959815, 0.958269, 0.956723, 0.955178, 0.953632, 0.952087, 0.950541, 0.948995, 0.94745, 0.945904, 0.944359, 0.942813, 0.941267, 0.939664, 0.93806, 0.936457, 0.934853, 0.933227, 0.931546, 0.929843, 0.928134, 0.926424, 0.924709, 0.92298, 0.921242, 0.91946, 0.91765, 0.915833, 0.914016, 0.912151, 0.910285, 0.90842, 0.906539, 0.904627, 0.90269, 0.900727, 0.898756, 0.896764, 0.894757, 0.892747, 0.890718, 0.888689, 0.886612, 0.884536, 0.88244, 0.880344, 0.878223, 0.876027, 0.873831, 0.871608, 0.869332, 0.867032, 0.86472, 0.862325, 0.85993, 0.857451, 0.854959, 0.852368, 0.849761],
            "at_risk": [647, 646, 645, 644, 643, 642, 641, 640, 639, 638, 637, 636, 635, 634, 633, 632, 631, 630, 629, 628, 627, 626, 625, 624, 623, 622, 621, 620, 619, 618, 617, 616, 615, 614, 613, 612, 611, 610, 587, 586, 585, 584, 575, 555, 547, 544, 543, 540, 535, 531, 517, 508, 505, 504, 490, 489, 488, 483, 474, 467, 460, 457, 451, 447, 445, 440, 439, 428, 427, 422, 421, 415, 400, 399, 393, 383, 378, 375, 361, 360, 347, 344, 330, 327],
            "max_days": 159.94
          }
        }
      },
      "per_protocol": {
        "block": "per_protocol",
        "label": "Per protocol (control vs treatment leads whose alert was delivered)",
        "significant": false,
        "alpha_used": 0.0128,
        "notes": [
          "Paid within 90 days: 12.06% of treatment leads (65 of 539) vs 8.82% of control leads (6 of 68): +3.24 points (95% CI -6.22 to +8.84), a relative lift of +36.7% (95% CI -40.5% to +175.2%), p = 0.434.",
          "Per-protocol: control vs the 539 of 647 treatment leads (83%) whose alert was delivered. Delivery is not randomised (leads whose alert got through can differ from the rest), so this is a sensitivity check, not the causal effect; the intention-to-treat block is.",
          "Not significant at this interim look (the rule is p < 0.0128 at this interim look): keep the experiment running to the planned horizon; an early look needs far stronger evidence than the final one.",
          "Fewer than 10 conversions in an arm: the intervals are wide and approximate.",
          "242 leads (25 control, 217 treatment) have had under 90 days of follow-up and no payment yet: they count as not converted, so these rates can still rise.",
          "Recovered per lead: $113.77 treatment vs $87.22 control, difference $26.56 (95% bootstrap CI -$65.47 to $103.05).",
          "Median days to first payment: not reached in either arm (fewer than half of the leads have paid); log-rank test of time to payment p = 0.395."
        ],
        "in_followup": {
          "control": 25,
          "treatment": 217
        },
        "conversion": {
          "control_n": 68,
          "treatment_n": 539,
          "control_converted": 6,
          "treatment_converted": 65,
          "control_rate": 0.088235,
          "treatment_rate": 0.120594,
          "difference": 0.032358,
          "difference_ci": [-0.062167, 0.088371],
          "relative_lift": 0.3667,
          "relative_lift_ci": [-0.4051, 1.7517],
          "p_value": 0.4344,
          "alpha": 0.05
        },
        "recovered": {
          "control_n": 68,
          "treatment_n": 539,
          "control_mean": 87.22,
          "treatment_mean": 113.77,
          "difference": 26.56,
          "difference_ci": [-65.47, 103.05],
          "confidence_level": 0.95,
          "resamples": 2000,
          "method": "percentile"
        },
        "time_to_payment": {
          "control_median_days": null,
          "treatment_median_days": null,
          "logrank_statistic": 0.7242,
          "logrank_p_value": 0.3948,
          "control": {
            "n": 68,
            "events": 6,
            "times": [17.551, 39.814, 59.576, 60.368, 62.711, 76.96],
            "survival": [0.985294, 0.970588, 0.953854, 0.93712, 0.919438, 0.899006],
            "at_risk": [68, 67, 58, 57, 53, 45],
            "max_days": 157.273
          },
          "treatment": {
            "n": 539,
            "events": 65,
            "times": [5.037, 6.221, 8.099, 8.175, 8.38, 11.998, 12.334, 12.919, 16.057, 17.759, 18.178, 19.312, 22.656, 23.458, 24.63, 24.815, 25.587, 26.505, 26.742, 27.283, 28.068, 32.603, 32.862, 33.427, 34.259, 34.957, 35.073, 35.919, 44.119, 44.582, 44.772, 46.103, 49.311, 50.249, 50.512, 50.732, 51.598, 52.069, 55.347, 56.663, 56.759, 58.578, 58.715, 58.945, 60.702, 62.229, 63.046, 65.234, 66.049, 67.107, 67.203, 67.916, 70.07, 70.907, 70.992, 71.276, 73.747, 73.833, 74.766, 76.278, 77.144, 78.195, 80.405, 83.037, 83.25],
            "survival": [0.998145, 0.996289, 0.994434, 0.992579, 0.990724, 0.988868, 0.987013, 0.985158, 0.983302, 0.981447, 0.979592, 0.977737, 0.975881, 0.974026, 0.972171, 0.970315, 0.96846, 0.966605, 0.96475, 0.962894, 0.961039, 0.959184, 0.957328, 0.955473, 0.953618, 0.951763, 0.949907, 0.948052, 0.946121, 0.94419, 0.942259, 0.9403, 0.938278, 0.936234, 0.934181, 0.932128, 0.930075, 0.928003, 0.925865, 0.923681, 0.921498, 0.919256, 0.917013, 0.914771, 0.912507, 0.910197, 0.907851, 0.905475, 0.903073, 0.900652, 0.898224, 0.89577, 0.893254, 0.890716, 0.888178, 0.885611, 0.882944, 0.880276, 0.877568, 0.874808, 0.872022, 0.869218, 0.866301, 0.863272, 0.860222],
            "at_risk": [539, 538, 537, 536, 535, 534, 533, 532, 531, 530, 529, 528, 527, 526, 525, 524, 523, 522, 521, 520, 519, 518, 517, 516, 515, 514, 513, 512, 491, 490, 489, 481, 465, 459, 456, 455, 454, 449, 434, 424, 423, 411, 410, 409, 404, 395, 388, 382, 377, 373, 371, 366, 356, 352, 351, 346, 332, 331, 325, 318, 314, 311, 298, 286, 283],
            "max_days": 159.94
          }
        }
      }
    },
    {
      "section": "promotion",
      "leads": 360,
      "still_in_followup": 132,
      "notes": [
        "132 of 360 leads are still in follow-up (under 90 days since assignment, no payment yet).",
        "Leads that had this signal type; a lead with several types is in each of their sections."
      ],
      "itt": {
        "block": "itt",
        "label": "Intention to treat (all assigned leads)",
        "significant": false,
        "alpha_used": 0.0128,
        "notes": [
          "Paid within 90 days: 13.76% of treatment leads (45 of 327) vs 18.18% of control leads (6 of 33): -4.42 points (95% CI -20.96 to +6.01), a relative lift of -24.3% (95% CI -65.9% to +50.2%), p = 0.488.",
          "Not significant at this interim look (the rule is p < 0.0128 at this interim look): keep the experiment running to the planned horizon; an early look needs far stronger evidence than the final one.",
          "Fewer than 10 conversions in an arm: the intervals are wide and approximate.",
          "132 leads (11 control, 121 treatment) have had under 90 days of follow-up and no payment yet: they count as not converted, so these rates can still rise.",
          "Recovered per lead: $116.76 treatment vs $200.37 control, difference -$83.61 (95% bootstrap CI -$260.41 to $58.46).",
          "Median days to first payment: not reached in either arm (fewer than half of the leads have paid); log-rank test of time to payment p = 0.611."
        ],
        "in_followup": {
          "control": 11,
          "treatment": 121
        },
        "conversion": {
          "control_n": 33,
          "treatment_n": 327,
          "control_converted": 6,
          "treatment_converted": 45,
          "control_rate": 0.181818,
          "treatment_rate": 0.137615,
          "difference": -0.044204,
          "difference_ci": [-0.209624, 0.060143],
          "relative_lift": -0.2431,
          "relative_lift_ci": [-0.6587, 0.5022],
          "p_value": 0.4883,
          "alpha": 0.05
        },
        "recovered": {
          "control_n": 33,
          "treatment_n": 327,
          "control_mean": 200.37,
          "treatment_mean": 116.76,
          "difference": -83.61,
          "difference_ci": [-260.41, 58.46],
          "confidence_level": 0.95,
          "resamples": 2000,
          "method": "percentile"
        },
        "time_to_payment": {
          "control_median_days": null,
          "treatment_median_days": null,
          "logrank_statistic": 0.2585,
          "logrank_p_value": 0.6112,
          "control": {
            "n": 33,
            "events": 6,
            "times": [56.1, 62.711, 65.323, 72.288, 76.96, 87.695],
            "survival": [0.962963, 0.924444, 0.885926, 0.847407, 0.808889, 0.763951],
            "at_risk": [27, 25, 24, 23, 22, 18],
            "max_days": 154.467
          },
          "treatment": {
            "n": 327,
            "events": 45,
            "times": [2.895, 6.221, 8.38, 9.218, 12.919, 13.041, 13.521, 14.959, 16.057, 17.569, 17.759, 17.805, 22.656, 23.458, 24.63, 24.838, 25.587, 26.505, 26.742, 28.068, 34.259, 36.7, 39.877, 40.474, 44.582, 46.103, 48.319, 49.311, 50.512, 52.069, 54.829, 55.347, 56.663, 58.578, 60.725, 62.744, 67.107, 68.322, 70.07, 70.992, 74.901, 78.896, 80.476, 86.289, 86.938],
            "survival": [0.996942, 0.993884, 0.990826, 0.987768, 0.984709, 0.981651, 0.978593, 0.975535, 0.972477, 0.969419, 0.966361, 0.963303, 0.960245, 0.957187, 0.954128, 0.95107, 0.948012, 0.944954, 0.941896, 0.938838, 0.93578, 0.932722, 0.929664, 0.926595, 0.923433, 0.920204, 0.916882, 0.913548, 0.910127, 0.906653, 0.903083, 0.899485, 0.895844, 0.892142, 0.888362, 0.884516, 0.880514, 0.876418, 0.872184, 0.867888, 0.863437, 0.85882, 0.854075, 0.849051, 0.844027],
            "at_risk": [327, 326, 325, 324, 323, 322, 321, 320, 319, 318, 317, 316, 315, 314, 313, 312, 311, 310, 309, 308, 307, 306, 305, 303, 293, 286, 277, 275, 267, 262, 254, 251, 247, 242, 236, 231, 221, 215, 207, 203, 195, 187, 181, 170, 169],
            "max_days": 159.711
          }
        }
      },
      "per_protocol": {
        "block": "per_protocol",
        "label": "Per protocol (control vs treatment leads whose alert was delivered)",
        "significant": false,
        "alpha_used": 0.0128,
        "notes": [
          "Paid within 90 days: 12.93% of treatment leads (34 of 263) vs 18.18% of control leads (6 of 33): -5.25 points (95% CI -21.84 to +5.36), a relative lift of -28.9% (95% CI -68.3% to +43.9%), p = 0.406.",
          "Per-protocol: control vs the 263 of 327 treatment leads (80%) whose alert was delivered. Delivery is not randomised (leads whose alert got through can differ from the rest), so this is a sensitivity check, not the causal effect; the intention-to-treat block is.",
          "Not significant at this interim look (the rule is p < 0.0128 at this interim look): keep the experiment running to the planned horizon; an early look needs far stronger evidence than the final one.",
          "Fewer than 10 conversions in an arm: the intervals are wide and approximate.",
          "113 leads (11 control, 102 treatment) have had under 90 days of follow-up and no payment yet: they count as not converted, so these rates can still rise.",
          "Recovered per lead: $107.82 treatment vs $200.37 control, difference -$92.56 (95% bootstrap CI -$262.85 to $57.93).",
          "Median days to first payment: not reached in either arm (fewer than half of the leads have paid); log-rank test of time to payment p = 0.523."
        ],
        "in_followup": {
          "control": 11,
          "treatment": 102
        },
        "conversion": {
          "control_n": 33,
          "treatment_n": 263,
          "control_converted": 6,
          "treatment_converted": 34,
          "control_rate": 0.181818,
          "treatment_rate": 0.129278,
          "difference": -0.052541,
          "difference_ci": [-0.218398, 0.053626],
          "relative_lift": -0.289,
          "relative_lift_ci": [-0.6835, 0.4386],
          "p_value": 0.4061,
          "alpha": 0.05
        },
        "recovered": {
          "control_n": 33,
          "treatment_n": 263,
          "control_mean": 200.37,
          "treatment_mean": 107.82,
          "difference": -92.56,
          "difference_ci": [-262.85, 57.93],
          "confidence_level": 0.95,
          "resamples": 2000,
          "method": "percentile"
        },
        "time_to_payment": {
          "control_median_days": null,
          "treatment_median_days": null,
          "logrank_statistic": 0.408,
          "logrank_p_value": 0.523,
          "control": {
            "n": 33,
            "events": 6,
            "times": [56.1, 62.711, 65.323, 72.288, 76.96, 87.695],
            "survival": [0.962963, 0.924444, 0.885926, 0.847407, 0.808889, 0.763951],
            "at_risk": [27, 25, 24, 23, 22, 18],
            "max_days": 154.467
          },
          "treatment": {
            "n": 263,
            "events": 34,
            "times": [6.221, 8.38, 9.218, 12.919, 14.959, 16.057, 17.569, 17.759, 17.805, 22.656, 23.458, 24.63, 25.587, 26.505, 26.742, 28.068, 34.259, 44.582, 46.103, 48.319, 49.311, 50.512, 52.069, 55.347, 56.663, 58.578, 60.725, 62.744, 67.107, 68.322, 70.07, 70.992, 74.901, 78.896],
            "survival": [0.996198, 0.992395, 0.988593, 0.984791, 0.980989, 0.977186, 0.973384, 0.969582, 0.965779, 0.961977, 0.958175, 0.954373, 0.95057, 0.946768, 0.942966, 0.939163, 0.935361, 0.931431, 0.927416, 0.923294, 0.919154, 0.914938, 0.910662, 0.906198, 0.901667, 0.897043, 0.892322, 0.887499, 0.882513, 0.877382, 0.872065, 0.866648, 0.86102, 0.855203],
            "at_risk": [263, 262, 261, 260, 259, 258, 257, 256, 255, 254, 253, 252, 251, 250, 249, 248, 247, 238, 232, 225, 223, 218, 214, 204, 200, 195, 190, 185, 178, 172, 165, 161, 154, 148],
            "max_days": 159.711
          }
        }
      }
    }
  ]
};
